import { closeSync, fsyncSync, openSync, renameSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { randomBytes } from "node:crypto";

/** Writes a file so readers see the old or the new content, never a mix: temp file, fsync, rename. */
export function writeFileAtomic(
  path: string,
  content: string | Buffer | readonly Buffer[],
  mode = 0o600,
): void {
  const temp = join(dirname(path), `.${randomBytes(6).toString("hex")}.tmp`);
  const fd = openSync(temp, "wx", mode);
  try {
    // Pieces are written one after the other: a large file need not be joined in memory first.
    const pieces =
      typeof content === "string" ? [Buffer.from(content)] : Buffer.isBuffer(content) ? [content] : content;
    for (const piece of pieces)
      for (let at = 0; at < piece.length;) at += writeSync(fd, piece, at, piece.length - at);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
  const dirFd = openSync(dirname(path), "r");
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

export function writeJsonAtomic(path: string, value: unknown, mode = 0o600): void {
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`, mode);
}
