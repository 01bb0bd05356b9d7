import { posix } from "node:path";
import { parseEntryName } from "../../archive/index.js";
import { currentTarLimits } from "../../archive/limits.js";
import { readTarEntries } from "../../archive/tar-entries.js";
import type { FileOps } from "../../agent-protocol/file-ops.js";
import { guestFileError } from "./guest-file-errors.js";

// Files up to this size are gathered and sent in one request that is not waited on.
const SMALL_FILE_BYTES = 48 * 1024;

/**
 * Unpacks a tar stream into `destination` (relative to /workspace), creating it first, with the
 * agent's file operations: directories, files (mode and mtime kept, owner not), symbolic and hard
 * links. Files skip the per-file fsync (like tar -x); each still appears whole. Requests are pipelined — the agent handles them in order, so a directory exists before
 * what goes into it — and the first refusal stops the unpacking. Devices and fifos are skipped.
 */
export async function extractIntoGuest(
  files: FileOps,
  destination: string,
  archive: AsyncIterable<Buffer>,
): Promise<void> {
  const limits = currentTarLimits();
  let failure: unknown = null;
  const inFlight = new Set<Promise<void>>();
  const track = (request: Promise<unknown>, relative: string): Promise<void> => {
    const settled = request.then(
      () => undefined,
      (error: unknown) => {
        failure ??= guestFileError(error, relative, "unpacking into");
      },
    );
    inFlight.add(settled);
    void settled.then(() => inFlight.delete(settled));
    return settled;
  };
  if (destination !== ".") void track(files.mkdir(destination, { parents: true }), destination);
  for await (const entry of readTarEntries(archive, limits)) {
    if (failure !== null) break;
    const parsed = parseEntryName(entry.name, limits.maxNameBytes);
    if (!parsed.ok) continue; // sources are validated before this; nothing unsafe reaches here
    const target = parsed.path === "" ? destination : posix.join(destination, parsed.path);
    const mtime = entry.mtime?.getTime();
    // Files keep their stored modification time, as tar -x does (build tools look at it).
    const kept = mtime !== undefined && mtime >= 0 ? { mtimeNs: BigInt(Math.trunc(mtime)) * 1_000_000n } : {};
    switch (entry.kind) {
      case "directory":
        void track(files.mkdir(target, { parents: true, mode: entry.mode }), target);
        break;
      case "file": {
        if (entry.size <= SMALL_FILE_BYTES) {
          const chunks: Buffer[] = [];
          for await (const chunk of entry.body) chunks.push(chunk);
          const options = { parents: true, mode: entry.mode, durable: false, ...kept };
          void track(files.write(target, Buffer.concat(chunks), options), target);
        } else {
          // A large body streams with backpressure and must be consumed before the next entry.
          const options = { parents: true, mode: entry.mode, durable: false, ...kept };
          await track(files.write(target, entry.body, options), target);
        }
        break;
      }
      case "symlink":
        void track(files.link(target, entry.linkTarget ?? ""), target);
        break;
      case "hardlink": {
        const linked = parseEntryName(entry.linkTarget ?? "", limits.maxNameBytes);
        if (linked.ok)
          void track(files.link(target, posix.join(destination, linked.path), { hard: true }), target);
        break;
      }
      default:
        break;
    }
    await files.flow();
  }
  await Promise.all(inFlight);
  if (failure !== null) throw failure;
}
