import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { isProcessAlive } from "../platform/processes.js";
import { ASIDE_PREFIX, FAILED_BUILD_LOG_FILE, STAGING_PREFIX } from "./paths.js";

export interface RemovedItem {
  path: string;
  reason: string;
}

/** makeStaging's `.staging-PID-…` and swapInEntry's `.old-PID-…` (STAGING_PREFIX, ASIDE_PREFIX). */
const PID_NAMED = /^\.(?:staging|old)-([0-9]+)-/;

/**
 * What interrupted or failed builds, pulls and imports leave in an environment's folder. Only call
 * this while holding the environment's build lock: then no live build owns any of it. Pulls and
 * imports fill their staging folders without the lock, so a folder named for a live process is
 * left out: it is still being filled.
 */
export async function findBuildLeftovers(environmentRoot: string): Promise<RemovedItem[]> {
  const names = await readdir(environmentRoot).catch(() => [] as string[]);
  const leftovers: RemovedItem[] = [];
  for (const name of names) {
    const path = join(environmentRoot, name);
    if (heldByLiveProcess(name)) continue;
    if (name.startsWith(STAGING_PREFIX))
      leftovers.push({ path, reason: "staging folder of an interrupted build" });
    else if (name.startsWith(ASIDE_PREFIX))
      leftovers.push({ path, reason: "replaced entry not yet deleted" });
    else if (name === FAILED_BUILD_LOG_FILE) leftovers.push({ path, reason: "log of a failed build" });
  }
  return leftovers;
}

function heldByLiveProcess(name: string): boolean {
  const pid = Number(PID_NAMED.exec(name)?.[1] ?? Number.NaN);
  return Number.isSafeInteger(pid) && (pid === process.pid || isProcessAlive(pid));
}

/** A staging folder a live process is still filling (pulls, imports and pushes stage without the build lock). */
export function isLiveStaging(name: string): boolean {
  return name.startsWith(STAGING_PREFIX) && heldByLiveProcess(name);
}
