import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { LaunchSpec } from "../machine/types.js";
import type { BackendName } from "../sandbox/vm-record.js";

/** What the manager hands a supervisor (supervisor.json in the VM folder). */
export interface SupervisorConfig {
  id: string;
  dir: string;
  backend: BackendName;
  launch: LaunchSpec;
  supervisorSocket: string;
  bootTimeoutMs: number;
  expiresAtMs: number;
  /** One-shot VM: torn down (folder included) once its owner process is gone. */
  ephemeral: boolean;
  ownerPid: number | null;
  /** A workspace's secret store: its values are masked in the stored console log. */
  consoleMaskDir: string | null;
}

/** How a VM's run ended (exit.json), read by later status calls. */
export interface VmExit {
  reason:
    | "shutdown"
    | "ttl_expired"
    | "owner_exited"
    | "vmm_exited"
    | "protocol_error"
    | "boot_failed"
    /** Written by the death guard (death-guard.ts), not by the supervisor. */
    | "supervisor_died";
  at: string;
  detail: string;
  vmm_exit_code: number | null;
  vmm_signal: string | null;
}

/** The one line a supervisor writes on fd 3 once the guest answered (or failed to). */
export type ReadyReport =
  | { ok: true; vmm_pid: number; kernel_release: string; agent_version: string; mode: "guest" | "host" }
  | { ok: false; code: string; message: string; details: Record<string, unknown> };

export const configPath = (dir: string): string => join(dir, "supervisor.json");
export const exitPath = (dir: string): string => join(dir, "exit.json");

export function readSupervisorConfig(dir: string): SupervisorConfig {
  return JSON.parse(readFileSync(configPath(dir), "utf8")) as SupervisorConfig;
}
