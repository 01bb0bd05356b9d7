import type { SandboxStore } from "../store.js";
import { createReadStream } from "node:fs";
import { silentPhases, type PhaseReporter } from "../../platform/phases.js";
import { recreateVm } from "../vm/manager.js";
import { extractIntoGuest } from "./guest-extract.js";
import { withGuestFiles } from "./guest-fs.js";
import { clearHistory } from "./history.js";
import { touch, withWorkspaceLock } from "./lock.js";
import { readWorkspaceRecord, writeWorkspaceRecord } from "./record.js";
import { startWorkspaceVm } from "./start-vm.js";
import { snapshotArchive } from "./snapshots.js";
import { workspaceInfo, type WorkspaceInfo } from "./views.js";

/**
 * Recreates the sandbox from a fresh copy of the environment and restores /workspace from the
 * baseline or a named snapshot. Keeps the id and the diff baseline; clears the command history.
 */
export async function resetWorkspace(
  store: SandboxStore,
  id: string,
  snapshot = "baseline",
  onPhase: PhaseReporter = silentPhases,
): Promise<WorkspaceInfo> {
  const archive = snapshotArchive(store, id, snapshot);
  return withWorkspaceLock(store, id, async () => {
    const { environment } = readWorkspaceRecord(store, id);
    onPhase("stop", { workspace_id: id });
    onPhase("create", { workspace_id: id, environment });
    await recreateVm(store, id, onPhase); // stops the old VM first; one that already died is fine
    onPhase("start", { workspace_id: id });
    await startWorkspaceVm(store, id);
    onPhase("restore", { workspace_id: id, snapshot });
    await withGuestFiles(store, id, (files) => extractIntoGuest(files, ".", createReadStream(archive)));
    clearHistory(store, id);
    const record = readWorkspaceRecord(store, id);
    record.workspace.reset_count += 1;
    record.workspace.command_count = 0;
    touch(record);
    writeWorkspaceRecord(store, record);
    return workspaceInfo(store, record);
  });
}
