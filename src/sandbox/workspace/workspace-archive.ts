import { createWriteStream } from "node:fs";
import { dirname } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { CapBudget, HostSpaceGuard, SNAPSHOT_BYTES } from "../../archive/index.js";
import type { FileOps } from "../../agent-protocol/file-ops.js";
import { archiveFromGuest } from "./guest-archive.js";

/**
 * Writes a tar of /workspace (built from the agent's listing and reads) to the new file `path` (a snapshot or the baseline), counting the
 * guest's bytes as they arrive: past PYRO_MAX_SNAPSHOT_BYTES it is LIMIT_EXCEEDED, and
 * HOST_DISK_FULL when the host's file system runs short. The caller removes `path` on failure.
 */
export async function writeWorkspaceArchive(files: FileOps, path: string): Promise<void> {
  const budget = new CapBudget(SNAPSHOT_BYTES);
  const space = new HostSpaceGuard(dirname(path), "the workspace archive");
  await space.start();
  const { stream, done } = archiveFromGuest(files, ".");
  const counted = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      try {
        budget.take(chunk.length);
      } catch (error) {
        callback(error as Error);
        return;
      }
      space.willWrite(chunk.length).then(
        () => callback(null, chunk),
        (error: unknown) => callback(error as Error),
      );
    },
  });
  // The host side's failure (a limit, a full disk) explains the guest's, not the other way round.
  const [written, finished] = await Promise.allSettled([
    pipeline(stream, counted, createWriteStream(path, { mode: 0o600, flags: "wx" })),
    done,
  ]);
  if (written.status === "rejected") throw space.translate(written.reason);
  if (finished.status === "rejected") throw finished.reason;
}
