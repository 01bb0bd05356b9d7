import { chownSync, createWriteStream, mkdtempSync, rmSync, statSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { PyroError } from "../../errors/index.js";

export interface MigrationSink {
  /** The `unix:` URI QEMU's `migrate` writes to. */
  uri: string;
  /** Resolves with the file's size once QEMU's stream ended and the file is closed. */
  written: Promise<number>;
  /** Stops listening and removes the socket's folder (the file stays). */
  close(): void;
}

/**
 * Receives one outgoing migration stream into `file` (created 0600). QEMU has dropped to the VMM
 * user by the time it connects, so the socket sits in a private folder of that user (only root
 * and the VMM user may enter it); the first connection is the only one accepted. QEMU's seccomp
 * filter forbids the `exec:` URI, and QEMU 7.2 has no `file:` URI.
 */
export async function openMigrationSink(file: string, vmmUid: number | null): Promise<MigrationSink> {
  const dir = mkdtempSync(join(tmpdir(), "pyro-migrate-"));
  const path = join(dir, "in.sock");
  rmSync(file, { force: true });
  const output = createWriteStream(file, { flags: "wx", mode: 0o600 });
  let settle!: { resolve(socket: Socket): void; reject(error: Error): void };
  const connection = new Promise<Socket>((resolve, reject) => (settle = { resolve, reject }));
  const server = createServer((socket) => {
    server.close();
    settle.resolve(socket);
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
  const written = (async () => {
    await pipeline(await connection, output);
    return statSync(file).size;
  })();
  written.catch(() => undefined);
  return {
    uri: `unix:${path}`,
    written,
    close() {
      server.close();
      output.destroy();
      settle.reject(new PyroError("EXEC_FAILED", "the migration stream was abandoned"));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
