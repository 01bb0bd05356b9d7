import { chownSync, createWriteStream, mkdtempSync, rmSync, statSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { PyroError } from "../../errors/index.js";

export interface MigrationSink {
  /** The `unix:` URI QEMU's `migrate` writes to. */
  uri: string;
  /** Resolves with the file's size once the stream ended and the file is closed. */
  written: Promise<number>;
  /** Stops listening and removes the socket's folder; `keep` false also removes the file. */
  close(keep: boolean): void;
}

/**
 * Receives one outgoing migration stream into `file` (created 0600), at most `maxBytes`. QEMU
 * has dropped to the VMM user by the time it connects, so the socket sits in a folder of that
 * user. Other processes of that user (another VM's QEMU) could connect too, so exactly one
 * connection is accepted and a second one fails the sink: when QEMU then reports the migration
 * completed, the one connection was QEMU's. (QEMU's seccomp filter forbids the `exec:` URI, and
 * QEMU 7.2 has no `file:` URI.)
 */
export async function openMigrationSink(
  file: string,
  vmmUid: number | null,
  maxBytes: number,
): Promise<MigrationSink> {
  const dir = mkdtempSync(join(tmpdir(), "pyro-migrate-"));
  const path = join(dir, "in.sock");
  rmSync(file, { force: true });
  const output = createWriteStream(file, { flags: "wx", mode: 0o600 });
  let settle!: { resolve(socket: Socket): void; reject(error: Error): void };
  const connection = new Promise<Socket>((resolve, reject) => (settle = { resolve, reject }));
  let accepted: Socket | null = null;
  const server = createServer((socket) => {
    server.close();
    if (accepted === null) {
      accepted = socket;
      settle.resolve(socket);
      return;
    }
    socket.destroy();
    accepted.destroy(new PyroError("EXEC_FAILED", "a second peer connected to the migration socket"));
  });
  server.on("error", (error) => settle.reject(error));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => resolve());
  });
  if (vmmUid !== null) {
    chownSync(dir, vmmUid, -1);
    chownSync(path, vmmUid, -1);
  }
  let received = 0;
  const bounded = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      received += chunk.length;
      if (received > maxBytes)
        done(new PyroError("EXEC_FAILED", `the saved state exceeds ${maxBytes} bytes`));
      else done(null, chunk);
    },
  });
  const written = (async () => {
    await pipeline(await connection, bounded, output);
    return statSync(file).size;
  })();
  written.catch(() => undefined);
  return {
    uri: `unix:${path}`,
    written,
    close(keep) {
      server.close();
      accepted?.destroy();
      output.destroy();
      settle.reject(new PyroError("EXEC_FAILED", "the migration stream was abandoned"));
      rmSync(dir, { recursive: true, force: true });
      if (!keep) rmSync(file, { force: true });
    },
  };
}
