import type { SandboxStore } from "../store.js";
import { silentPhases, type PhaseReporter } from "../../platform/phases.js";
import { recreateVm } from "../vm/manager.js";
import { discardSavedState } from "./lifecycle.js";
import { clearHistory } from "./history.js";
import { touch, withWorkspaceLock } from "./lock.js";
import { readWorkspaceRecord, writeWorkspaceRecord } from "./record.js";
import { startWorkspaceVm } from "./start-vm.js";
import { validateSnapshotName } from "./naming.js";
import { snapshotBackend } from "./snapshot-backend.js";
import { workspaceInfo, type WorkspaceInfo } from "./views.js";

/**
 * Recreates the sandbox from a fresh copy of the environment and restores /workspace from the
 * baseline or a named snapshot: a workspace disk is reverted while the VM is down, an archive is
 * unpacked once it is up. Keeps the id and the diff baseline; clears the command history.
 */
export async function resetWorkspace(
  store: SandboxStore,
  id: string,
  snapshot = "baseline",
  onPhase: PhaseReporter = silentPhases,
): Promise<WorkspaceInfo> {
  readWorkspaceRecord(store, id);
  if (snapshot !== "baseline") validateSnapshotName(snapshot);
  const snapshots = snapshotBackend(store, id);
  await snapshots.requireRestorable(snapshot);
  return withWorkspaceLock(store, id, async () => {
    const { environment } = readWorkspaceRecord(store, id);
    onPhase("stop", { workspace_id: id });
    onPhase("create", { workspace_id: id, environment });
    await recreateVm(store, id, onPhase); // stops the old VM first; one that already died is fine
    discardSavedState(store, id); // a paused workspace's memory has no place in a fresh system
    onPhase("restore", { workspace_id: id, snapshot });
    await snapshots.restoreBeforeStart(snapshot);
    onPhase("start", { workspace_id: id });
    await startWorkspaceVm(store, id);
    await snapshots.restoreAfterStart(snapshot);
    clearHistory(store, id);
    const record = readWorkspaceRecord(store, id);
    record.workspace.reset_count += 1;
    record.workspace.command_count = 0;
    touch(record);
    writeWorkspaceRecord(store, record);
    return workspaceInfo(store, record);
  });
}
