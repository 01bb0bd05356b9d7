import { join } from "node:path";
import { z } from "zod";
import type { SandboxRecord } from "../record.js";

export const VmState = z.enum(["created", "starting", "running", "stopped", "paused", "expired", "failed"]);
export type VmState = z.infer<typeof VmState>;

/** A machine driver's name; machine/registry.ts names them and resolves it (driverByName). */
export const BackendName = z.string().min(1);
export type BackendName = z.infer<typeof BackendName>;

export const ExecutionMode = z.enum(["guest_serial", "guest_vsock", "host_compat"]);
export type ExecutionMode = z.infer<typeof ExecutionMode>;

/** A sandbox's record as the VM code sees it (the workspace facet is the workspace code's). */
export type VmRecord = SandboxRecord;

/** Files of one VM's folder (the supervisor's). Sockets stay short-named to fit sockaddr_un. */
export function vmFiles(dir: string): {
  supervisorSocket: string;
  agentSocket: string;
  consoleLog: string;
  supervisorLog: string;
  scratch: string;
} {
  return {
    supervisorSocket: join(dir, "s.sock"),
    agentSocket: join(dir, "a.sock"),
    consoleLog: join(dir, "console.log"),
    supervisorLog: join(dir, "supervisor.log"),
    scratch: join(dir, "scratch"),
  };
}
