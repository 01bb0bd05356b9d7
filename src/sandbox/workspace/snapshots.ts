import type { SandboxStore } from "../store.js";
import { PyroError } from "../../errors/index.js";
import { touch, updateWorkspace } from "./lock.js";
import { validateSnapshotName } from "./naming.js";
import { readWorkspaceRecord } from "./record.js";
import { snapshotBackend } from "./snapshot-backend.js";

export interface SnapshotInfo {
  workspace_id: string;
  name: string;
  created_at: string;
  /** See StoredSnapshot.bytes: an archive's size, or 0 for a copy-on-write disk snapshot. */
  bytes: number;
}

/** Saves /workspace under a plain name (see SnapshotBackend for where it lives). */
export async function createSnapshot(store: SandboxStore, id: string, name: string): Promise<SnapshotInfo> {
  readWorkspaceRecord(store, id);
  validateSnapshotName(name);
  const made = await snapshotBackend(store, id).create(name);
  await updateWorkspace(store, id, touch);
  return { workspace_id: id, ...made };
}

export async function listSnapshots(
  store: SandboxStore,
  id: string,
): Promise<{
  workspace_id: string;
  snapshots: SnapshotInfo[];
  count: number;
}> {
  readWorkspaceRecord(store, id);
  const snapshots = (await snapshotBackend(store, id).list()).map((entry) => ({
    workspace_id: id,
    ...entry,
  }));
  return { workspace_id: id, snapshots, count: snapshots.length };
}

export async function deleteSnapshot(
  store: SandboxStore,
  id: string,
  name: string,
): Promise<{ workspace_id: string; name: string; deleted: boolean }> {
  if (name === "baseline") throw new PyroError("INVALID_ARGUMENT", "the baseline cannot be deleted");
  readWorkspaceRecord(store, id);
  await snapshotBackend(store, id).delete(validateSnapshotName(name));
  return { workspace_id: id, name, deleted: true };
}
