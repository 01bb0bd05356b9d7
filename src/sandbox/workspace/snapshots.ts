import type { SandboxStore } from "../store.js";
import { existsSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { PyroError } from "../../errors/index.js";
import { touch, updateWorkspace, withWorkspaceLock } from "./lock.js";
import { validateSnapshotName } from "./naming.js";
import { readWorkspaceRecord, workspaceFiles } from "./record.js";
import { runningWorkspace } from "./running.js";
import { writeWorkspaceArchive } from "./workspace-archive.js";
import { withGuestFiles } from "./guest-fs.js";

export interface SnapshotInfo {
  workspace_id: string;
  name: string;
  created_at: string;
  bytes: number;
}

const snapshotPath = (store: SandboxStore, id: string, name: string): string =>
  join(workspaceFiles(store, id).snapshots, `${name}.tar`);

/** The archive of a named snapshot, or of the baseline; SNAPSHOT_NOT_FOUND otherwise. */
export function snapshotArchive(store: SandboxStore, id: string, name: string): string {
  if (name === "baseline") return workspaceFiles(store, id).baseline;
  const path = snapshotPath(store, id, validateSnapshotName(name));
  if (!existsSync(path))
    throw new PyroError("SNAPSHOT_NOT_FOUND", `workspace ${id} has no snapshot "${name}"`);
  return path;
}

function info(store: SandboxStore, id: string, name: string): SnapshotInfo {
  const stat = statSync(snapshotPath(store, id, name));
  return { workspace_id: id, name, created_at: stat.mtime.toISOString(), bytes: stat.size };
}

/** Archives /workspace under a plain name; the archive appears only once complete. */
export async function createSnapshot(store: SandboxStore, id: string, name: string): Promise<SnapshotInfo> {
  runningWorkspace(store, id);
  validateSnapshotName(name);
  const path = snapshotPath(store, id, name);
  if (existsSync(path))
    throw new PyroError("SNAPSHOT_EXISTS", `workspace ${id} already has a snapshot "${name}"`);
  const partial = `${path}.partial-${process.pid}`;
  try {
    await withGuestFiles(store, id, (files) => writeWorkspaceArchive(files, partial));
    await withWorkspaceLock(store, id, async () => {
      if (existsSync(path))
        throw new PyroError("SNAPSHOT_EXISTS", `workspace ${id} already has a snapshot "${name}"`);
      renameSync(partial, path);
    });
  } finally {
    rmSync(partial, { force: true });
  }
  await updateWorkspace(store, id, touch);
  return info(store, id, name);
}

export function listSnapshots(
  store: SandboxStore,
  id: string,
): {
  workspace_id: string;
  snapshots: SnapshotInfo[];
  count: number;
} {
  readWorkspaceRecord(store, id);
  const dir = workspaceFiles(store, id).snapshots;
  const names = existsSync(dir)
    ? readdirSync(dir)
        .filter((file) => file.endsWith(".tar"))
        .map((file) => file.slice(0, -".tar".length))
    : [];
  const snapshots = names
    .map((name) => info(store, id, name))
    .sort((a, b) => a.created_at.localeCompare(b.created_at));
  return { workspace_id: id, snapshots, count: snapshots.length };
}

export async function deleteSnapshot(
  store: SandboxStore,
  id: string,
  name: string,
): Promise<{ workspace_id: string; name: string; deleted: boolean }> {
  if (name === "baseline") throw new PyroError("INVALID_ARGUMENT", "the baseline cannot be deleted");
  const path = snapshotArchive(store, id, name);
  await withWorkspaceLock(store, id, async () => rmSync(path, { force: true }));
  return { workspace_id: id, name, deleted: true };
}
