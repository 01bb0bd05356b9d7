import type { SandboxStore } from "../store.js";
import { readWorkspaceRecord, writeWorkspaceRecord, type WorkspaceRecord } from "./record.js";

/**
 * Serialises changes to one workspace across processes (the sandbox's one lock). Held briefly
 * for metadata (allocate a sequence number, append history), never across a guest command, so
 * concurrent execs overlap.
 */
export function withWorkspaceLock<T>(store: SandboxStore, id: string, action: () => Promise<T>): Promise<T> {
  readWorkspaceRecord(store, id); // WORKSPACE_NOT_FOUND before creating a lock file anywhere
  return store.withLock(id, action, "WORKSPACE_NOT_FOUND");
}

/** Read-modify-write of the record under the lock. */
export function updateWorkspace(
  store: SandboxStore,
  id: string,
  change: (record: WorkspaceRecord) => void,
): Promise<WorkspaceRecord> {
  return withWorkspaceLock(store, id, async () => {
    const record = readWorkspaceRecord(store, id);
    change(record);
    writeWorkspaceRecord(store, record);
    return record;
  });
}

export function touch(record: WorkspaceRecord): void {
  record.workspace.last_activity_at = new Date().toISOString();
}
