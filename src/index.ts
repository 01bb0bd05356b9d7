export { Pyro, type CallHooks } from "./surfaces/sdk/pyro.js";
export { PyroError, ERROR_CATALOG, type ErrorCode } from "./errors/index.js";
export type { RunOutcome } from "./sandbox/vm-run.js";
export type { ExecOutcome } from "./sandbox/vm-exec.js";
export type { VmInfo } from "./sandbox/vm-views.js";
export type { ReapReport } from "./sandbox/reaper.js";
export type { DoctorReport } from "./doctor/doctor.js";
export { OPERATIONS } from "./api/registry.js";
