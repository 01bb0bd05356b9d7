import { createReadStream, existsSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { PyroError } from "../../errors/index.js";
import type { SandboxStore } from "../store.js";
import { extractIntoGuest } from "./guest-extract.js";
import { withGuestFiles } from "./guest-fs.js";
import { withWorkspaceLock } from "./lock.js";
import { workspaceFiles } from "./record.js";
import { runningWorkspace } from "./running.js";
import type { SnapshotBackend, StoredSnapshot } from "./snapshot-backend.js";
import { writeWorkspaceArchive } from "./workspace-archive.js";

const exists = (id: string, name: string): PyroError =>
  new PyroError("SNAPSHOT_EXISTS", `workspace ${id} already has a snapshot "${name}"`);

/** Snapshots as tar archives of /workspace, made and restored through the guest agent. */
export function archiveSnapshots(store: SandboxStore, id: string): SnapshotBackend {
  const files = workspaceFiles(store, id);
  const pathOf = (name: string): string => join(files.snapshots, `${name}.tar`);
  const archiveOf = (name: string): string => {
    if (name === "baseline") return files.baseline;
    const path = pathOf(name);
    if (!existsSync(path))
      throw new PyroError("SNAPSHOT_NOT_FOUND", `workspace ${id} has no snapshot "${name}"`);
    return path;
  };
  const info = (name: string): StoredSnapshot => {
    const stat = statSync(pathOf(name));
    return { name, created_at: stat.mtime.toISOString(), bytes: stat.size };
  };
  return {
    requireRestorable: async (name) => void archiveOf(name),

    async create(name) {
      runningWorkspace(store, id);
      const path = pathOf(name);
      if (existsSync(path)) throw exists(id, name);
      // The archive appears only once complete.
      const partial = `${path}.partial-${process.pid}`;
      try {
        await withGuestFiles(store, id, (guest) => writeWorkspaceArchive(guest, partial));
        await withWorkspaceLock(store, id, async () => {
          if (existsSync(path)) throw exists(id, name);
          renameSync(partial, path);
        });
      } finally {
        rmSync(partial, { force: true });
      }
      return info(name);
    },

    async list() {
      const names = existsSync(files.snapshots)
        ? readdirSync(files.snapshots)
            .filter((file) => file.endsWith(".tar"))
            .map((file) => file.slice(0, -".tar".length))
        : [];
      return names.map(info).sort((a, b) => a.created_at.localeCompare(b.created_at));
    },

    async delete(name) {
      const path = archiveOf(name);
      await withWorkspaceLock(store, id, async () => rmSync(path, { force: true }));
    },

    restoreBeforeStart: async () => undefined,

    async restoreAfterStart(name) {
      const archive = archiveOf(name);
      await withGuestFiles(store, id, (guest) => extractIntoGuest(guest, ".", createReadStream(archive)));
    },
  };
}
