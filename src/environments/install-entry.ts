import { randomBytes } from "node:crypto";
import { chmod, mkdir, mkdtemp, rename } from "node:fs/promises";
import { basename, join } from "node:path";
import { PyroError } from "../errors/index.js";
import { installedEnvironment, type InstalledEnvironment } from "./installed.js";
import { findBuildLeftovers } from "./leftovers.js";
import { acquireLock } from "./lock.js";
import { ASIDE_PREFIX, environmentPaths, STAGING_PREFIX, type EnvironmentPaths } from "./paths.js";
import { removeTree } from "./remove-tree.js";
import { checkEntry } from "./verify.js";

const INSTALL_LOCK_TIMEOUT_MS = 30 * 60_000;

/**
 * A fresh private staging folder beside `name`'s entry (same filesystem, so installing is a
 * rename). Interrupted work leaves it behind as a leftover that `env prune` and the next
 * install of that name remove.
 */
export async function makeStaging(name: string): Promise<string> {
  const paths = environmentPaths(name);
  await mkdir(paths.environmentRoot, { recursive: true });
  const staging = await mkdtemp(join(paths.environmentRoot, `${STAGING_PREFIX}${process.pid}-`));
  // The entry must be readable by VMMs running as another user.
  await chmod(staging, 0o755);
  return staging;
}

/**
 * Installs a complete staging folder (manifest.json plus the files it names) as `name`'s entry,
 * under the environment's lock: verified with the same check every later use makes, then renamed
 * into place. The staging folder is gone afterwards, installed or removed.
 */
export async function installEntry(staging: string, name: string): Promise<InstalledEnvironment> {
  const paths = environmentPaths(name);
  try {
    const check = await checkEntry(staging, name);
    if (check.status !== "valid") {
      const problem = check.status === "corrupt" ? check.problem : "entry missing";
      throw new PyroError("INTERNAL", `The new entry of ${name} does not verify: ${problem}.`);
    }
    const lock = await acquireLock(paths.lockPath, { timeoutMs: INSTALL_LOCK_TIMEOUT_MS });
    try {
      await removeDeadLeftovers(paths.environmentRoot);
      await swapInEntry(staging, paths);
    } finally {
      await lock.release();
    }
    return installedEnvironment(paths.entryDir, check.manifest);
  } finally {
    await removeTree(staging).catch(() => undefined);
  }
}

/**
 * Removes the staging and aside folders of processes that died mid-install (a pull or an import
 * killed while filling its staging folder): for names outside the catalog nothing else would.
 * The caller holds the environment's lock.
 */
async function removeDeadLeftovers(environmentRoot: string): Promise<void> {
  for (const { path } of await findBuildLeftovers(environmentRoot)) {
    const name = basename(path);
    if (name.startsWith(STAGING_PREFIX) || name.startsWith(ASIDE_PREFIX))
      await removeTree(path).catch(() => undefined);
  }
}

/**
 * Swaps the staging folder in with directory renames, so readers see the old entry, briefly none,
 * then the new one, never a mix. No fsync: a crash can only leave an entry that fails verification
 * and gets replaced. The caller holds the environment's lock.
 */
export async function swapInEntry(staging: string, paths: EnvironmentPaths): Promise<void> {
  const aside = join(
    paths.environmentRoot,
    `${ASIDE_PREFIX}${process.pid}-${randomBytes(4).toString("hex")}`,
  );
  const replaced = await rename(paths.entryDir, aside).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return false;
      throw error;
    },
  );
  try {
    await rename(staging, paths.entryDir);
  } catch (error) {
    if (replaced) await rename(aside, paths.entryDir).catch(() => undefined);
    throw error;
  }
  if (replaced) await removeTree(aside);
}
