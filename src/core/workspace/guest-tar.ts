import { PassThrough, Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { PyroError } from "../../errors/index.js";
import type { ExecOutcome } from "../vm-exec.js";
import type { GuestRunner } from "./guest-runner.js";

// Exit codes of the scripts below, mapped to errors on the host.
const OUTSIDE = 64;
const MISSING = 66;

/** Refuses a destination that is (or resolves through a symlink to) a place outside the workspace root. */
const CHECK_INSIDE = `root=$(pwd -P); t=$(realpath -m -- "$1") || exit ${OUTSIDE}; case "$t" in "$root"|"$root"/*) ;; *) exit ${OUTSIDE};; esac`;

function failOnScriptExit(outcome: ExecOutcome, what: string, path: string): void {
  if (outcome.exit_code === 0) return;
  if (outcome.exit_code === OUTSIDE) {
    throw new PyroError(
      "PATH_OUTSIDE_WORKSPACE",
      `${path} resolves outside /workspace (a symlink leaves it)`,
    );
  }
  if (outcome.exit_code === MISSING)
    throw new PyroError("FILE_NOT_FOUND", `/workspace/${path} does not exist`);
  throw new PyroError(
    "EXEC_FAILED",
    `${what} failed in the guest (exit ${outcome.exit_code}): ${outcome.stderr.trim().slice(0, 2000)}`,
  );
}

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
  const script = `${CHECK_INSIDE}; mkdir -p -- "$1" && cd -- "$1" && exec tar -x -z --no-same-owner -f -`;
  const compressed = createGzip({ level: 1 });
  // pipeline() carries a source failure into `compressed`, so the guest command is stopped too.
  pipeline(Readable.from(archive), compressed).catch(() => undefined);
  const outcome = await run(["sh", "-c", script, "sh", destination], { stdin: compressed });
  failOnScriptExit(outcome, "unpacking into the workspace", destination);
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
  const script = `${CHECK_INSIDE}; [ -e "$1" ] || [ -L "$1" ] || exit ${MISSING}; exec tar -c -f - -- "$1"`;
  const done = run(["sh", "-c", script, "sh", path], {
    captureLimitBytes: 0,
    onStdout: (chunk) => {
      if (stream.write(chunk)) return;
      return new Promise<void>((resolve) => stream.once("drain", resolve));
    },
  }).then(
    (outcome) => {
      try {
        failOnScriptExit(outcome, "archiving the workspace", path);
        stream.end();
      } catch (error) {
        stream.destroy(error as Error);
        throw error;
      }
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
  const script = `${CHECK_INSIDE}; if [ -d "$1" ]; then echo directory; elif [ -e "$1" ] || [ -L "$1" ]; then echo file; else exit ${MISSING}; fi`;
  const outcome = await run(["sh", "-c", script, "sh", path]);
  failOnScriptExit(outcome, "inspecting a path", path);
  return outcome.stdout.trim() === "directory" ? "directory" : "file";
}
