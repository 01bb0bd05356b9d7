import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { ASIDE_PREFIX, FAILED_BUILD_LOG_FILE, STAGING_PREFIX } from "./paths.js";

export interface RemovedItem {
  path: string;
  reason: string;
}

/**
 * What interrupted or failed builds leave in an environment's folder. Only call this while holding
 * the environment's build lock: then no live build owns any of it.
 */
export async function findBuildLeftovers(environmentRoot: string): Promise<RemovedItem[]> {
  const names = await readdir(environmentRoot).catch(() => [] as string[]);
  const leftovers: RemovedItem[] = [];
  for (const name of names) {
    const path = join(environmentRoot, name);
    if (name.startsWith(STAGING_PREFIX))
      leftovers.push({ path, reason: "staging folder of an interrupted build" });
    else if (name.startsWith(ASIDE_PREFIX))
      leftovers.push({ path, reason: "replaced entry not yet deleted" });
    else if (name === FAILED_BUILD_LOG_FILE) leftovers.push({ path, reason: "log of a failed build" });
  }
  return leftovers;
}
