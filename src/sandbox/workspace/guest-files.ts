import { PyroError } from "../../errors/index.js";
import type { GuestRunner } from "./guest-runner.js";
import { GuestStatus, guestFileError, shellArgv } from "./guest-files-script.js";
import { guestArgumentPath, resolveWorkspacePath, workspaceAbsolutePath } from "./paths.js";

export {
  DEFAULT_LIST_LIMIT,
  listFiles,
  type ListFilesOptions,
  type ListFilesResult,
  type WorkspaceEntry,
  type WorkspaceEntryType,
} from "./guest-files-list.js";

export interface ReadFileResult {
  /** Absolute guest form (/workspace/…). */
  path: string;
  /** The file's full size in bytes, even when truncated. */
  size: number;
  /** At most maxBytes of the file, byte for byte. */
  content: Buffer;
  truncated: boolean;
}

export interface WriteFileResult {
  path: string;
  bytes_written: number;
}

export const DEFAULT_READ_LIMIT = 1024 * 1024;
const SIZE_HEADER_MAX = 32;

/** Prints the size on the first line, then the first $2 bytes (one more than the cap, to see truncation). */
const READ_SCRIPT = `
confine "$1"
[ -e "$t" ] || exit ${GuestStatus.MISSING}
[ -d "$t" ] && exit ${GuestStatus.IS_DIRECTORY}
[ -f "$t" ] || exit ${GuestStatus.NOT_REGULAR}
stat -c %s -- "$t" || exit 1
exec head -c "$2" -- "$t"
`;

export async function readFile(
  run: GuestRunner,
  path: string,
  options: { maxBytes?: number } = {},
): Promise<ReadFileResult> {
  const maxBytes = options.maxBytes ?? DEFAULT_READ_LIMIT;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
    throw new PyroError("INVALID_ARGUMENT", `the read limit must be a non-negative integer, not ${maxBytes}`);
  }
  const relative = resolveWorkspacePath(path);
  // Raw chunks, not the runner's utf8 capture: binary content must survive byte for byte.
  const limit = SIZE_HEADER_MAX + maxBytes + 1;
  const chunks: Buffer[] = [];
  let kept = 0;
  const outcome = await run(shellArgv(READ_SCRIPT, [guestArgumentPath(relative), String(maxBytes + 1)]), {
    captureLimitBytes: 0,
    onStdout: (chunk) => {
      const take = chunk.subarray(0, Math.max(0, limit - kept));
      if (take.length === 0) return;
      chunks.push(Buffer.from(take));
      kept += take.length;
    },
  });
  if (outcome.exit_code !== 0) throw guestFileError(outcome, relative, "reading");
  const output = Buffer.concat(chunks);
  const newline = output.indexOf(0x0a);
  const sizeText = newline === -1 ? "" : output.subarray(0, newline).toString("latin1");
  if (newline > SIZE_HEADER_MAX || !/^\d+$/.test(sizeText)) {
    throw new PyroError("EXEC_FAILED", `the guest sent no valid size for ${workspaceAbsolutePath(relative)}`);
  }
  const body = output.subarray(newline + 1);
  return {
    path: workspaceAbsolutePath(relative),
    size: Number(sizeText),
    content: body.subarray(0, maxBytes),
    truncated: body.length > maxBytes,
  };
}

/**
 * Streams stdin into a temp file beside the target, then renames it into place, so readers see the
 * old or the new file, never half of one. The target is the confined real path (writing through a
 * symlink that stays inside the workspace). An existing file keeps its mode; a new one gets the
 * umask's default.
 */
const WRITE_SCRIPT = `
confine "$1"
[ -d "$t" ] && exit ${GuestStatus.IS_DIRECTORY}
dir=\${t%/*}
if [ ! -d "$dir" ]; then
  [ "$2" = 1 ] || exit ${GuestStatus.MISSING}
  a=$dir
  while [ -n "$a" ] && [ ! -e "$a" ]; do a=\${a%/*}; done
  [ -z "$a" ] || [ -d "$a" ] || exit ${GuestStatus.PARENT_NOT_DIRECTORY}
  mkdir -p -- "$dir" || exit 1
fi
tmp=$(mktemp -- "$dir/.pyro-write.XXXXXX") || exit 1
if [ -e "$t" ]; then chmod --reference="$t" -- "$tmp"; else chmod "$(printf %o $((0666 & ~0$(umask))))" -- "$tmp"; fi &&
  cat > "$tmp" && mv -f -- "$tmp" "$t" || { rm -f -- "$tmp"; exit 1; }
`;

export async function writeFile(
  run: GuestRunner,
  path: string,
  content: Buffer | AsyncIterable<Buffer | Uint8Array>,
  options: { createParents?: boolean } = {},
): Promise<WriteFileResult> {
  const relative = resolveWorkspacePath(path);
  if (relative === ".") throw new PyroError("INVALID_ARGUMENT", "/workspace itself is a directory");
  let bytes = 0;
  async function* counted(): AsyncGenerator<Buffer | Uint8Array> {
    for await (const piece of Buffer.isBuffer(content) ? [content] : content) {
      bytes += piece.byteLength;
      yield piece;
    }
  }
  const createParents = options.createParents ?? true;
  const outcome = await run(
    shellArgv(WRITE_SCRIPT, [guestArgumentPath(relative), createParents ? "1" : "0"]),
    {
      stdin: counted(),
    },
  );
  if (outcome.exit_code !== 0) throw guestFileError(outcome, relative, "writing");
  return { path: workspaceAbsolutePath(relative), bytes_written: bytes };
}

/**
 * Checks every path before removing any: each parent must resolve inside the workspace (the entry
 * itself is unlinked, not followed), exist, and not be a directory. Prints the index it is checking,
 * so a refusal can name its path.
 */
const REMOVE_SCRIPT = `
i=0
for p; do
  i=$((i + 1))
  echo "$i"
  confine "\${p%/*}"
  [ -e "$p" ] || [ -L "$p" ] || exit ${GuestStatus.MISSING}
  [ -d "$p" ] && [ ! -L "$p" ] && exit ${GuestStatus.IS_DIRECTORY}
done
exec rm -f -- "$@"
`;

/** Deletes files (not directories); all paths are checked before the first is removed. */
export async function removePaths(run: GuestRunner, paths: string[]): Promise<{ removed: string[] }> {
  const relatives = paths.map((path) => resolveWorkspacePath(path));
  if (relatives.length === 0) return { removed: [] };
  if (relatives.includes(".")) throw new PyroError("INVALID_ARGUMENT", "/workspace itself cannot be removed");
  const outcome = await run(shellArgv(REMOVE_SCRIPT, relatives.map(guestArgumentPath)), {
    captureLimitBytes: 64 * 1024,
  });
  if (outcome.exit_code !== 0) {
    const checked = Number(outcome.stdout.trim().split("\n").at(-1));
    const failing = relatives[checked - 1] ?? relatives[0] ?? ".";
    throw guestFileError(outcome, failing, "removing");
  }
  return { removed: relatives.map(workspaceAbsolutePath) };
}
