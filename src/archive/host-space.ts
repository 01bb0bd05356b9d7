import { existsSync } from "node:fs";
import { statfs } from "node:fs/promises";
import { dirname } from "node:path";
import { PyroError } from "../errors/index.js";

/** Free space always left on a host file system that pyro writes guest-controlled data to. */
export const HOST_DISK_RESERVE_BYTES = 64 * 1024 * 1024;
/** Bytes written between two checks of free space while streaming. */
const RECHECK_BYTES = 32 * 1024 * 1024;

/** HOST_DISK_FULL unless `directory`'s file system has `bytes` free beyond the reserve. */
export async function ensureHostSpace(directory: string, bytes: number, what: string): Promise<void> {
  const stats = await statfs(existingAncestor(directory));
  const free = stats.bavail * stats.bsize;
  if (free < bytes + HOST_DISK_RESERVE_BYTES) {
    throw new PyroError(
      "HOST_DISK_FULL",
      `Not enough free space in ${directory} for ${what}: ${free} bytes free, ${bytes} needed plus ${HOST_DISK_RESERVE_BYTES} kept free.`,
      { details: { path: directory, free_bytes: free, needed_bytes: bytes } },
    );
  }
}

/** The file system a path not created yet will be on: that of its nearest existing ancestor. */
function existingAncestor(path: string): string {
  let current = path;
  while (!existsSync(current) && dirname(current) !== current) current = dirname(current);
  return current;
}

/** Checks free space before writing starts and again every RECHECK_BYTES written. */
export class HostSpaceGuard {
  private sinceCheck = 0;

  constructor(
    private readonly directory: string,
    private readonly what: string,
  ) {}

  start(expectedBytes = 0): Promise<void> {
    return ensureHostSpace(this.directory, expectedBytes, this.what);
  }

  /** Call before writing `bytes` more. */
  async willWrite(bytes: number): Promise<void> {
    this.sinceCheck += bytes;
    if (this.sinceCheck < RECHECK_BYTES) return;
    const pending = this.sinceCheck;
    this.sinceCheck = 0;
    await ensureHostSpace(this.directory, pending, this.what);
  }

  /** A write's error as HOST_DISK_FULL when the file system ran out of space. */
  translate(error: unknown): unknown {
    const code = (error as { code?: unknown } | null)?.code;
    if (code !== "ENOSPC" && code !== "EDQUOT") return error;
    return new PyroError(
      "HOST_DISK_FULL",
      `The host file system of ${this.directory} is full (writing ${this.what}).`,
      {
        cause: error,
        details: { path: this.directory },
      },
    );
  }
}
