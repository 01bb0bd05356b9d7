import { PassThrough, Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { GuestStatus, guestFileError, shellArgv } from "./guest-files-script.js";
import type { GuestRunner } from "./guest-runner.js";

/**
 * Unpacks a tar stream into `destination` (relative to /workspace), creating it first. The stream
 * travels gzip-compressed: the host compresses faster than the channel carries bytes, and the
 * guest's gunzip costs less than the bytes saved.
 */
export async function extractIntoGuest(
  run: GuestRunner,
  destination: string,
  archive: AsyncIterable<Buffer | Uint8Array | string>,
): Promise<void> {
  const script = 'confine "$1"; mkdir -p -- "$1" && cd -- "$1" && exec tar -x -z --no-same-owner -f -';
  const compressed = createGzip({ level: 1 });
  // pipeline() carries a source failure into `compressed`, so the guest command is stopped too.
  pipeline(Readable.from(archive), compressed).catch(() => undefined);
  const outcome = await run(shellArgv(script, [destination]), { stdin: compressed });
  if (outcome.exit_code !== 0) throw guestFileError(outcome, destination, "unpacking into");
}

/**
 * Streams `tar -c` of `path` (relative to /workspace; "." for everything) out of the guest.
 * The returned stream ends when the command does; `done` rejects if the command failed.
 */
export function archiveFromGuest(
  run: GuestRunner,
  path: string,
): { stream: PassThrough; done: Promise<void> } {
  const stream = new PassThrough({ highWaterMark: 1024 * 1024 });
  // A consumer that stops reading (a limit hit, a bad entry) ends the guest's tar too.
  const reader = new AbortController();
  stream.once("close", () => reader.abort());
  const script = `confine "$1"; [ -e "$1" ] || [ -L "$1" ] || exit ${GuestStatus.MISSING}; exec tar -c -f - -- "$1"`;
  const done = run(shellArgv(script, [path]), {
    captureLimitBytes: 0,
    abort: reader.signal,
    onStdout: (chunk) => {
      // A consumer that gave up (destroyed the stream) must not leave the command blocked forever.
      if (stream.destroyed || stream.write(chunk)) return;
      return new Promise<void>((resolve) => {
        stream.once("drain", resolve);
        stream.once("close", resolve);
      });
    },
  }).then(
    (outcome) => {
      if (outcome.exit_code !== 0) {
        const error = guestFileError(outcome, path, "archiving");
        stream.destroy(error);
        throw error;
      }
      stream.end();
    },
    (error: unknown) => {
      stream.destroy(error as Error);
      throw error;
    },
  );
  // The consumer sees failures through the stream; keep `done` from being an unhandled rejection.
  done.catch(() => undefined);
  return { stream, done };
}

/** Whether a workspace path is a directory or something else (a file or a link); FILE_NOT_FOUND if absent. */
export async function pathKind(run: GuestRunner, path: string): Promise<"directory" | "file"> {
  const script = `confine "$1"; if [ -d "$1" ]; then echo directory; elif [ -e "$1" ] || [ -L "$1" ]; then echo file; else exit ${GuestStatus.MISSING}; fi`;
  const outcome = await run(shellArgv(script, [path]));
  if (outcome.exit_code !== 0) throw guestFileError(outcome, path, "inspecting");
  return outcome.stdout.trim() === "directory" ? "directory" : "file";
}
