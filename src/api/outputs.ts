/** Result types of the operations, for the SDK's users and the surfaces. */
export type { RunOutcome } from "../sandbox/vm/run.js";
export type { ExecOutcome } from "../sandbox/vm/exec.js";
export type { VmInfo } from "../sandbox/vm/views.js";
export type { ReapReport } from "../sandbox/reaper.js";
export type { WorkspaceInfo } from "../sandbox/workspace/views.js";
export type { WorkspaceExecOutcome } from "../sandbox/workspace/exec.js";
export type { DoctorReport } from "../doctor/doctor.js";
