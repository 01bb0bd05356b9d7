import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { packageVersion } from "../platform/package-info.js";
import { ENVIRONMENT_CATALOG } from "./catalog.js";
import { findBuildLeftovers, type RemovedItem } from "./leftovers.js";
import { readLockHolder, tryAcquireLock } from "./lock.js";
import { pruneBlobs } from "./prune-blobs.js";
import {
  ASIDE_PREFIX,
  BLOBS_FOLDER,
  environmentCacheDir,
  environmentPaths,
  FAILED_BUILD_LOG_FILE,
  fileSystemSafeName,
  LOCK_FILE,
  STAGING_PREFIX,
} from "./paths.js";
import { removeTree } from "./remove-tree.js";
import { checkEntry } from "./verify.js";

export interface PruneReport {
  removed: RemovedItem[];
  /** Environments left alone because a build of them is running. */
  skipped: RemovedItem[];
}

/**
 * Removes what no current pyro can use: leftovers of interrupted or failed builds, pulls, imports
 * and pushes, stale build locks, catalog entries of other pyro versions and catalog entries that
 * fail verification, then blobs no installed environment uses. Entries of names outside the
 * catalog are left alone. Each environment's folder is pruned under its build lock.
 */
export async function pruneEnvironments(): Promise<PruneReport> {
  const report: PruneReport = { removed: [], skipped: [] };
  const cacheDir = environmentCacheDir();
  const folders = await environmentFolders(cacheDir);
  for (const folder of folders) {
    const spec = ENVIRONMENT_CATALOG.find((candidate) => fileSystemSafeName(candidate.name) === folder);
    const environmentRoot = join(cacheDir, folder);
    const lockPath = join(environmentRoot, LOCK_FILE);
    const lock = await tryAcquireLock(lockPath);
    if (!lock) {
      const holder = await readLockHolder(lockPath);
      report.skipped.push({
        path: environmentRoot,
        reason: `a build is running (pid ${holder?.pid ?? "?"})`,
      });
      continue;
    }
    try {
      if (lock.replacedStale) {
        report.removed.push({
          path: lockPath,
          reason: `stale build lock of dead pid ${lock.replacedStale.pid}`,
        });
      }
      const doomed = [
        ...(await findBuildLeftovers(environmentRoot)),
        ...(spec
          ? await staleEntries(environmentPaths(spec.name), spec.name, await readdir(environmentRoot))
          : []),
      ];
      for (const item of doomed) {
        await removeTree(item.path);
        report.removed.push(item);
      }
    } finally {
      await lock.release();
    }
  }
  const blobs = await pruneBlobs(cacheDir, folders);
  report.removed.push(...blobs.removed);
  report.skipped.push(...blobs.skipped);
  return report;
}

/** Every environment's folder in the cache (catalog names and others), not the blob store. */
async function environmentFolders(cacheDir: string): Promise<string[]> {
  const entries = await readdir(cacheDir, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isDirectory() && entry.name !== BLOBS_FOLDER)
    .map((entry) => entry.name)
    .sort();
}

async function staleEntries(
  paths: ReturnType<typeof environmentPaths>,
  name: string,
  names: string[],
): Promise<RemovedItem[]> {
  const current = fileSystemSafeName(packageVersion());
  const stale: RemovedItem[] = [];
  for (const entry of names) {
    if (isBookkeeping(entry)) continue;
    const path = join(paths.environmentRoot, entry);
    if (entry !== current) {
      stale.push({ path, reason: `entry for version ${entry} (current is ${current})` });
      continue;
    }
    const check = await checkEntry(path, name);
    if (check.status === "corrupt") stale.push({ path, reason: `corrupt: ${check.problem}` });
  }
  return stale;
}

function isBookkeeping(name: string): boolean {
  return (
    name.startsWith(LOCK_FILE) ||
    name.startsWith(STAGING_PREFIX) ||
    name.startsWith(ASIDE_PREFIX) ||
    name === FAILED_BUILD_LOG_FILE
  );
}
