import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { packageVersion } from "../platform/package-info.js";
import { ENVIRONMENT_CATALOG } from "./catalog.js";
import { findBuildLeftovers, type RemovedItem } from "./leftovers.js";
import { readLockHolder, tryAcquireLock } from "./lock.js";
import {
  ASIDE_PREFIX,
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
 * Removes what no current pyro can use: leftovers of interrupted or failed builds, stale build
 * locks, entries of other pyro versions and entries that fail verification. Folders of names
 * outside the catalog are left alone. Each environment is pruned under its build lock.
 */
export async function pruneEnvironments(): Promise<PruneReport> {
  const report: PruneReport = { removed: [], skipped: [] };
  for (const spec of ENVIRONMENT_CATALOG) {
    const paths = environmentPaths(spec.name);
    const names = await readdir(paths.environmentRoot).catch(() => undefined);
    if (names === undefined) continue;
    const lock = await tryAcquireLock(paths.lockPath);
    if (!lock) {
      const holder = await readLockHolder(paths.lockPath);
      report.skipped.push({
        path: paths.environmentRoot,
        reason: `a build is running (pid ${holder?.pid ?? "?"})`,
      });
      continue;
    }
    try {
      if (lock.replacedStale) {
        report.removed.push({
          path: paths.lockPath,
          reason: `stale build lock of dead pid ${lock.replacedStale.pid}`,
        });
      }
      const doomed = [
        ...(await findBuildLeftovers(paths.environmentRoot)),
        ...(await staleEntries(paths, spec.name, names)),
      ];
      for (const item of doomed) {
        await removeTree(item.path);
        report.removed.push(item);
      }
    } finally {
      await lock.release();
    }
  }
  return report;
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
