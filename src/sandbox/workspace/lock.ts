import { withFileLock } from "../../platform/file-lock.js";
import { readWorkspaceRecord, workspaceFiles, writeWorkspaceRecord, type WorkspaceRecord } from "./record.js";

/**
 * Serialises changes to one workspace's metadata across processes. Held briefly (allocate a
 * sequence number, append history), never across a guest command, so concurrent execs overlap.
 */
export function withWorkspaceLock<T>(id: string, action: () => Promise<T>): Promise<T> {
  readWorkspaceRecord(id); // WORKSPACE_NOT_FOUND before creating a lock file anywhere
  return withFileLock(workspaceFiles(id).lock, action);
}

/** Read-modify-write of the record under the lock. */
export function updateWorkspace(
  id: string,
  change: (record: WorkspaceRecord) => void,
): Promise<WorkspaceRecord> {
  return withWorkspaceLock(id, async () => {
    const record = readWorkspaceRecord(id);
    change(record);
    writeWorkspaceRecord(record);
    return record;
  });
}

export function touch(record: WorkspaceRecord): void {
  record.last_activity_at = new Date().toISOString();
}
