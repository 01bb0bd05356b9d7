export { Pyro, type CallHooks } from "./sdk/pyro.js";
export { PyroError, ERROR_CATALOG, type ErrorCode } from "./errors/index.js";
export type { RunOutcome } from "./core/vm-run.js";
export type { ExecOutcome } from "./core/vm-exec.js";
export type { VmInfo, ReapReport } from "./core/vm-views.js";
export type { DoctorReport } from "./core/doctor.js";
export { OPERATIONS } from "./operations/registry.js";
