/**
 * A cross-process lock file: created with O_EXCL, holding the owner's pid. A lock whose pid is dead
 * is stale and may be taken over. Taking over is itself serialised by a short-lived ".break" lock,
 * so two waiters cannot both delete a stale lock and then each other's fresh one.
 */
import { randomBytes } from "node:crypto";
import { open, readFile, stat, unlink } from "node:fs/promises";
import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { PyroError } from "../errors/index.js";
import { isProcessAlive } from "../platform/processes.js";

export interface LockHolder {
  pid: number;
  token: string;
  host: string;
  started_at: string;
}

export interface LockHandle {
  path: string;
  /** The dead holder whose stale lock this acquisition replaced, if any. */
  replacedStale?: LockHolder;
  release(): Promise<void>;
}

export interface AcquireOptions {
  timeoutMs: number;
  pollMs?: number;
  /** Called once, when the lock is first found held by a live process. */
  onWait?(holder: LockHolder | undefined): void;
}

/** A lock file that cannot be parsed is only treated as stale after this long (its writer may be mid-write). */
const UNREADABLE_LOCK_GRACE_MS = 10_000;
const BREAK_LOCK_STALE_MS = 10_000;

/** Waits up to `timeoutMs` for the lock; ENVIRONMENT_BUSY if a live process keeps holding it. */
export async function acquireLock(path: string, options: AcquireOptions): Promise<LockHandle> {
  const deadline = Date.now() + options.timeoutMs;
  let notified = false;
  for (;;) {
    const handle = await tryAcquireLock(path);
    if (handle) return handle;
    const holder = await readLockHolder(path);
    if (Date.now() >= deadline) {
      throw new PyroError(
        "ENVIRONMENT_BUSY",
        `Timed out waiting for the lock ${path} (held by pid ${holder?.pid ?? "?"}).`,
        {
          details: { lock: path, pid: holder?.pid },
        },
      );
    }
    if (!notified) {
      options.onWait?.(holder);
      notified = true;
    }
    await sleep(Math.min(options.pollMs ?? 1000, Math.max(0, deadline - Date.now())));
  }
}

/** Takes the lock if it is free or stale; undefined if a live process holds it. */
export async function tryAcquireLock(path: string): Promise<LockHandle | undefined> {
  const handle = await createLockFile(path);
  if (handle) return handle;
  const stale = await breakStaleLock(path);
  if (!stale) return undefined;
  const retried = await createLockFile(path);
  return retried ? { ...retried, replacedStale: stale.holder } : undefined;
}

export async function readLockHolder(path: string): Promise<LockHolder | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path, "utf8")) as Partial<LockHolder>;
    if (typeof parsed.pid !== "number" || typeof parsed.token !== "string") return undefined;
    return parsed as LockHolder;
  } catch {
    return undefined;
  }
}

async function createLockFile(path: string): Promise<LockHandle | undefined> {
  const holder: LockHolder = {
    pid: process.pid,
    token: randomBytes(8).toString("hex"),
    host: hostname(),
    started_at: new Date().toISOString(),
  };
  let file;
  try {
    file = await open(path, "wx", 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return undefined;
    throw error;
  }
  try {
    await file.writeFile(JSON.stringify(holder));
  } finally {
    await file.close();
  }
  return { path, release: () => releaseIfOwned(path, holder.token) };
}

async function releaseIfOwned(path: string, token: string): Promise<void> {
  if ((await readLockHolder(path))?.token === token) await unlink(path).catch(ignoreMissing);
}

/** Removes the lock at `path` if its holder is dead; returns what was removed. */
async function breakStaleLock(path: string): Promise<{ holder: LockHolder | undefined } | undefined> {
  const breakPath = `${path}.break`;
  if (await isOlderThan(breakPath, BREAK_LOCK_STALE_MS)) await unlink(breakPath).catch(ignoreMissing);
  const breaker = await createLockFile(breakPath);
  if (!breaker) return undefined;
  try {
    const holder = await readLockHolder(path);
    // No readable holder: either the lock is already gone or its writer died (or is) mid-write.
    const stale = holder
      ? !isProcessAlive(holder.pid)
      : !(await exists(path)) || (await isOlderThan(path, UNREADABLE_LOCK_GRACE_MS));
    if (!stale) return undefined;
    await unlink(path).catch(ignoreMissing);
    return { holder };
  } finally {
    await breaker.release();
  }
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}

async function isOlderThan(path: string, ageMs: number): Promise<boolean> {
  const stats = await stat(path).catch(() => undefined);
  return stats !== undefined && Date.now() - stats.mtimeMs > ageMs;
}

function ignoreMissing(error: unknown): void {
  if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
}
