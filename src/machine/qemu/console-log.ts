import { closeSync, constants, fchmodSync, openSync, readSync, renameSync, writeSync } from "node:fs";
import type { Readable } from "node:stream";
import type { ConsoleFilter } from "../types.js";

/** The console log never grows past this; when it would, it is cut back to its newest half. */
export const CONSOLE_LOG_MAX_BYTES = 2 * 1024 * 1024;

const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW;

/**
 * The guest's serial console on the host, as a capped, owner-only file. The guest writes as much
 * as it likes; the file keeps the newest bytes (at least half the cap, at most the cap), so a
 * flood over a long TTL cannot fill the host's disk. Work per byte is constant: each cut copies
 * half the cap once per half-cap written.
 */
export class ConsoleLog {
  private fd: number;
  private size = 0;

  constructor(
    private readonly path: string,
    private readonly maxBytes = CONSOLE_LOG_MAX_BYTES,
  ) {
    this.fd = openOwnerOnly(path, constants.O_TRUNC);
  }

  /** Copies everything `source` produces (through `filter`, if any) into the log until it ends. */
  follow(source: Readable, filter?: ConsoleFilter): void {
    source.on("data", (chunk: Buffer) => this.write(filter === undefined ? chunk : filter.push(chunk)));
    source.once("close", () => {
      if (filter !== undefined) this.write(filter.flush());
      this.close();
    });
  }

  write(chunk: Buffer): void {
    if (this.fd < 0) return;
    const half = Math.floor(this.maxBytes / 2);
    const data = chunk.length > half ? chunk.subarray(chunk.length - half) : chunk;
    try {
      if (this.size + data.length > this.maxBytes) this.cut(half);
      writeSync(this.fd, data);
      this.size += data.length;
    } catch {
      // A full or failing host disk: stop logging, but keep draining so the guest's console never blocks.
      this.close();
    }
  }

  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
  }

  /** Replaces the file (atomically, for concurrent readers) with its last `keep` bytes. */
  private cut(keep: number): void {
    const tail = Buffer.alloc(Math.min(keep, this.size));
    const readFd = openSync(this.path, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      readSync(readFd, tail, 0, tail.length, this.size - tail.length);
    } finally {
      closeSync(readFd);
    }
    const temporary = `${this.path}.cut`;
    const fd = openOwnerOnly(temporary, constants.O_TRUNC);
    writeSync(fd, tail);
    renameSync(temporary, this.path);
    closeSync(this.fd);
    this.fd = fd;
    this.size = tail.length;
  }
}

function openOwnerOnly(path: string, extra: number): number {
  const fd = openSync(path, CREATE_FLAGS | extra, 0o600);
  fchmodSync(fd, 0o600); // a file left by an older version may be world-readable
  return fd;
}
