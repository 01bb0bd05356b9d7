import { PyroError } from "../../errors/index.js";
import { isSupervisorAlive, loadVm } from "../vm-manager.js";
import { vmRunner, type GuestRunner } from "./guest-runner.js";
import { readWorkspaceRecord, type WorkspaceRecord } from "./record.js";

/**
 * The record and a runner for a workspace whose sandbox is up. A VM that died (killed, host
 * reboot, TTL) is reported at once with what to do, never waited on.
 */
export function runningWorkspace(id: string): { record: WorkspaceRecord; run: GuestRunner } {
  const record = readWorkspaceRecord(id);
  let vm = null;
  try {
    vm = loadVm(id);
  } catch (error) {
    if (!(error instanceof PyroError)) throw error;
  }
  if (vm === null || !isSupervisorAlive(vm)) {
    const stopped = vm?.state === "stopped";
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
  return { record, run: vmRunner(id) };
}
