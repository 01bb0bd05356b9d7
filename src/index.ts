export { Pyro, type CallHooks, type PyroMethods, type PyroOptions } from "./surfaces/sdk/pyro.js";
export { PyroError, ERROR_CATALOG, type ErrorCode } from "./errors/index.js";
export type { RunOutcome, ExecOutcome, VmInfo, ReapReport, DoctorReport } from "./api/outputs.js";
export { OPERATIONS } from "./api/specs/index.js";
