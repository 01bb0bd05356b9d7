export { ERROR_CATALOG, EXIT_TIMED_OUT, type ErrorCode } from "./catalog.js";
export { PyroError, toPyroError, type PyroErrorOptions } from "./pyro-error.js";
export { troubleshootingAnchor, troubleshootingLink } from "./troubleshooting.js";
