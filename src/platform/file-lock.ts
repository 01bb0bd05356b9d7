import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { PyroError } from "../errors/index.js";
import { isProcessAlive } from "./processes.js";

/**
 * A lock file holding the owner's pid, taken with O_EXCL. A lock whose owner died is stale and
 * is broken by the next taker, so a crash never wedges a VM.
 */
export async function withFileLock<T>(path: string, action: () => Promise<T>, waitMs = 60_000): Promise<T> {
  const deadline = Date.now() + waitMs;
  while (!tryAcquire(path)) {
    if (Date.now() > deadline) {
      throw new PyroError("INTERNAL", `timed out waiting for lock ${path}`, {
        hint: "Another pyro process holds this VM; retry when it finishes.",
      });
    }
    await sleep(50);
  }
  return holding(path, action);
}

/** Runs `action` under the lock if it is free right now; otherwise does nothing and says so. */
export async function withFileLockIfFree<T>(
  path: string,
  action: () => Promise<T>,
): Promise<{ ran: true; value: T } | { ran: false }> {
  if (!tryAcquire(path)) return { ran: false };
  return { ran: true, value: await holding(path, action) };
}

async function holding<T>(path: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } finally {
    rmSync(path, { force: true });
  }
}

/** One attempt: true once the lock is ours; a stale lock is broken on the way. */
function tryAcquire(path: string): boolean {
  for (;;) {
    try {
      const fd = openSync(path, "wx", 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      if (!isStale(path)) return false;
      rmSync(path, { force: true });
    }
  }
}

function isStale(path: string): boolean {
  try {
    const content = readFileSync(path, "utf8");
    // An empty file is a lock being written right now, not a stale one.
    if (content === "") return false;
    const pid = Number.parseInt(content, 10);
    return !Number.isFinite(pid) || !isProcessAlive(pid);
  } catch {
    return false;
  }
}
