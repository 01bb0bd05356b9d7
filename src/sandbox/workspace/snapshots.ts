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

const snapshotPath = (id: string, name: string): string => join(workspaceFiles(id).snapshots, `${name}.tar`);

/** The archive of a named snapshot, or of the baseline; SNAPSHOT_NOT_FOUND otherwise. */
export function snapshotArchive(id: string, name: string): string {
  if (name === "baseline") return workspaceFiles(id).baseline;
  const path = snapshotPath(id, validateSnapshotName(name));
  if (!existsSync(path))
    throw new PyroError("SNAPSHOT_NOT_FOUND", `workspace ${id} has no snapshot "${name}"`);
  return path;
}

function info(id: string, name: string): SnapshotInfo {
  const stat = statSync(snapshotPath(id, name));
  return { workspace_id: id, name, created_at: stat.mtime.toISOString(), bytes: stat.size };
}

/** Archives /workspace under a plain name; the archive appears only once complete. */
export async function createSnapshot(id: string, name: string): Promise<SnapshotInfo> {
  runningWorkspace(id);
  validateSnapshotName(name);
  const path = snapshotPath(id, name);
  if (existsSync(path))
    throw new PyroError("SNAPSHOT_EXISTS", `workspace ${id} already has a snapshot "${name}"`);
  const partial = `${path}.partial-${process.pid}`;
  try {
    await withGuestFiles(id, (files) => writeWorkspaceArchive(files, partial));
    await withWorkspaceLock(id, async () => {
      if (existsSync(path))
        throw new PyroError("SNAPSHOT_EXISTS", `workspace ${id} already has a snapshot "${name}"`);
      renameSync(partial, path);
    });
  } finally {
    rmSync(partial, { force: true });
  }
  await updateWorkspace(id, touch);
  return info(id, name);
}

export function listSnapshots(id: string): {
  workspace_id: string;
  snapshots: SnapshotInfo[];
  count: number;
} {
  readWorkspaceRecord(id);
  const dir = workspaceFiles(id).snapshots;
  const names = existsSync(dir)
    ? readdirSync(dir)
        .filter((file) => file.endsWith(".tar"))
        .map((file) => file.slice(0, -".tar".length))
    : [];
  const snapshots = names
    .map((name) => info(id, name))
    .sort((a, b) => a.created_at.localeCompare(b.created_at));
  return { workspace_id: id, snapshots, count: snapshots.length };
}

export async function deleteSnapshot(
  id: string,
  name: string,
): Promise<{ workspace_id: string; name: string; deleted: boolean }> {
  if (name === "baseline") throw new PyroError("INVALID_ARGUMENT", "the baseline cannot be deleted");
  const path = snapshotArchive(id, name);
  await withWorkspaceLock(id, async () => rmSync(path, { force: true }));
  return { workspace_id: id, name, deleted: true };
}
