import { createReadStream } from "node:fs";
import { silentPhases, type PhaseReporter } from "../../platform/phases.js";
import { createVm, deleteVm } from "../vm-manager.js";
import { extractIntoGuest } from "./guest-extract.js";
import { withGuestFiles } from "./guest-fs.js";
import { clearHistory } from "./history.js";
import { touch, withWorkspaceLock } from "./lock.js";
import { readWorkspaceRecord, workspaceFiles, writeWorkspaceRecord } from "./record.js";
import { startWorkspaceVm } from "./start-vm.js";
import { snapshotArchive } from "./snapshots.js";
import { workspaceInfo, type WorkspaceInfo } from "./views.js";

/**
 * Recreates the sandbox from a fresh copy of the environment and restores /workspace from the
 * baseline or a named snapshot. Keeps the id and the diff baseline; clears the command history.
 */
export async function resetWorkspace(
  id: string,
  snapshot = "baseline",
  onPhase: PhaseReporter = silentPhases,
): Promise<WorkspaceInfo> {
  const archive = snapshotArchive(id, snapshot);
  return withWorkspaceLock(id, async () => {
    const record = readWorkspaceRecord(id);
    onPhase("stop", { workspace_id: id });
    await deleteVm(id).catch(() => undefined); // a VM that already died is fine
    onPhase("create", { workspace_id: id, environment: record.environment });
    await createVm({
      environment: record.environment,
      vcpuCount: record.vcpu_count,
      memMib: record.mem_mib,
      ttlSeconds: record.ttl_seconds,
      networkPolicy: record.network_policy,
      allowPrivateEgress: record.allow_private_egress,
      allowHostCompat: record.allow_host_compat,
      backend: record.backend,
      placement: { id, dir: workspaceFiles(id).vm },
      onPhase,
    });
    onPhase("start", { workspace_id: id });
    await startWorkspaceVm(id);
    onPhase("restore", { workspace_id: id, snapshot });
    await withGuestFiles(id, (files) => extractIntoGuest(files, ".", createReadStream(archive)));
    clearHistory(id);
    record.reset_count += 1;
    record.command_count = 0;
    touch(record);
    writeWorkspaceRecord(record);
    return workspaceInfo(record);
  });
}
