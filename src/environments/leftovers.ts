import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { isProcessAlive } from "../platform/processes.js";
import { ASIDE_PREFIX, FAILED_BUILD_LOG_FILE, STAGING_PREFIX } from "./paths.js";

export interface RemovedItem {
  path: string;
  reason: string;
}

/**
 * The pid that made a staging folder: every maker names it `.staging-[what-]<pid>-<mkdtemp suffix>`.
 * Null for a name without one.
 */
export function stagingOwner(name: string): number | null {
  const match = /(?:^|-)(\d+)-[A-Za-z0-9]{6}$/.exec(name.slice(STAGING_PREFIX.length));
  return match ? Number(match[1]) : null;
}

/** A staging folder a live process is still filling (pulls and imports stage without the build lock). */
export function isLiveStaging(name: string): boolean {
  if (!name.startsWith(STAGING_PREFIX)) return false;
  const owner = stagingOwner(name);
  return owner !== null && isProcessAlive(owner);
}

/**
 * What interrupted or failed builds, pulls, imports and pushes leave in an environment's folder.
 * Only call this while holding the environment's build lock: then no live build owns any of it;
 * staging folders of other live processes (pulls, imports, pushes) are left alone.
 */
export async function findBuildLeftovers(environmentRoot: string): Promise<RemovedItem[]> {
  const names = await readdir(environmentRoot).catch(() => [] as string[]);
  const leftovers: RemovedItem[] = [];
  for (const name of names) {
    const path = join(environmentRoot, name);
    if (name.startsWith(STAGING_PREFIX)) {
      if (!isLiveStaging(name)) leftovers.push({ path, reason: "staging folder of an interrupted build" });
    } else if (name.startsWith(ASIDE_PREFIX))
      leftovers.push({ path, reason: "replaced entry not yet deleted" });
    else if (name === FAILED_BUILD_LOG_FILE) leftovers.push({ path, reason: "log of a failed build" });
  }
  return leftovers;
}
