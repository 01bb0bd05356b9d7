import { PyroError } from "../../errors/index.js";
import { isSupervisorAlive } from "../vm/manager.js";
import { vmInfo } from "../vm/views.js";
import { vmRunner, type GuestRunner } from "./guest-runner.js";
import { readWorkspaceRecord, type WorkspaceRecord } from "./record.js";
import type { SandboxStore } from "../store.js";

/**
 * The record and a runner for a workspace whose sandbox is up. A VM that died (killed, host
 * reboot, TTL) is reported at once with what to do, never waited on.
 */
export function runningWorkspace(
  store: SandboxStore,
  id: string,
): { record: WorkspaceRecord; run: GuestRunner } {
  const record = readWorkspaceRecord(store, id);
  if (!isSupervisorAlive(store, record) && vmInfo(store, record).state === "paused")
    throw new PyroError("WORKSPACE_PAUSED", `workspace ${id} is paused`, {
      hint: `Run \`pyro workspace resume ${id}\` first.`,
    });
  if (!isSupervisorAlive(store, record)) {
    const stopped = record.state === "stopped";
    throw new PyroError(
      "WORKSPACE_NOT_RUNNING",
      `workspace ${id} has no running sandbox (${stopped ? "it is stopped" : "its VM stopped or died"})`,
      {
        hint: stopped
          ? `Run \`pyro workspace start ${id}\`, or read its disk as it is with \`pyro workspace disk list ${id}\`.`
          : `Run \`pyro workspace start ${id}\` to boot its disk again, or \`pyro workspace reset ${id}\` to recreate it from the baseline.`,
      },
    );
  }
  return { record, run: vmRunner(store, id) };
}
