import { existsSync } from "node:fs";
import { driverByName } from "../../machine/registry.js";
import { loadVm } from "../vm/manager.js";
import type { SandboxStore } from "../store.js";
import { archiveSnapshots } from "./archive-snapshots.js";
import { imageSnapshots } from "./image-snapshots.js";
import { workspaceFiles } from "./record.js";

/** One snapshot as a backend reports it. */
export interface StoredSnapshot {
  name: string;
  created_at: string;
  /**
   * Archive snapshots: the archive's size. Disk snapshots: 0 — a copy-on-write snapshot takes no
   * space when it is made; what it keeps alive grows with later writes and shows in the image.
   */
  bytes: number;
}

/**
 * Where a workspace's snapshots (and its baseline, for reset) live: tar archives of /workspace
 * on the host (a workspace without its own disk: the host backend), or internal snapshots of its
 * workspace image. The caller validated the name and holds no lock; each method takes what it needs.
 */
export interface SnapshotBackend {
  /** Fails with SNAPSHOT_NOT_FOUND unless reset can restore `name` ("baseline" included). */
  requireRestorable(name: string): Promise<void>;
  /** SNAPSHOT_EXISTS when taken; a running workspace is snapshotted live. */
  create(name: string): Promise<StoredSnapshot>;
  /** Named snapshots, oldest first (never the baseline). */
  list(): Promise<StoredSnapshot[]>;
  delete(name: string): Promise<void>;
  /** Reset, with the old VM gone and the new one not started yet. */
  restoreBeforeStart(name: string): Promise<void>;
  /** Reset, once the new VM runs. */
  restoreAfterStart(name: string): Promise<void>;
}

/** The snapshots of workspace `id`, by whether it has its own disk. */
export function snapshotBackend(store: SandboxStore, id: string): SnapshotBackend {
  const format = driverByName(loadVm(store, id).backend).workspaceImage;
  const disk = workspaceFiles(store, id).disk;
  return format !== null && existsSync(disk)
    ? imageSnapshots(store, id, format, disk)
    : archiveSnapshots(store, id);
}
