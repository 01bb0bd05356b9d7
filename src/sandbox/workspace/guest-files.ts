import { PyroError } from "../../errors/index.js";
import type { FileOps } from "../../agent-protocol/file-ops.js";
import { FsScope } from "../../agent-protocol/fs-messages.js";
import { guestFileError } from "./guest-file-errors.js";
import { resolveWorkspacePath, workspaceAbsolutePath } from "./paths.js";

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

export async function readFile(
  files: FileOps,
  path: string,
  options: { maxBytes?: number } = {},
): Promise<ReadFileResult> {
  const maxBytes = options.maxBytes ?? DEFAULT_READ_LIMIT;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
    throw new PyroError("INVALID_ARGUMENT", `the read limit must be a non-negative integer, not ${maxBytes}`);
  }
  const relative = resolveWorkspacePath(path);
  const file = await files.readAll(relative, maxBytes).catch((error: unknown) => {
    throw guestFileError(error, relative, "reading");
  });
  return {
    path: workspaceAbsolutePath(relative),
    size: file.size,
    content: file.data,
    truncated: file.truncated,
  };
}

/**
 * Writes atomically (the agent writes a temp file beside the target, fsyncs and renames it), so
 * readers see the old or the new file, never half of one. A symlink that stays inside the
 * workspace is written through. An existing file keeps its mode; a new one gets the umask's default.
 */
export async function writeFile(
  files: FileOps,
  path: string,
  content: Buffer | AsyncIterable<Buffer | Uint8Array>,
  options: { createParents?: boolean } = {},
): Promise<WriteFileResult> {
  const relative = resolveWorkspacePath(path);
  if (relative === ".") throw new PyroError("INVALID_ARGUMENT", "/workspace itself is a directory");
  const bytes = await files
    .write(relative, content, { parents: options.createParents ?? true })
    .catch((error: unknown) => {
      throw guestFileError(error, relative, "writing");
    });
  return { path: workspaceAbsolutePath(relative), bytes_written: bytes };
}

/**
 * Deletes files (not directories). Every path is checked first (it exists, is not a directory, its
 * parent resolves inside the workspace), so a refusal removes nothing.
 */
export async function removePaths(files: FileOps, paths: string[]): Promise<{ removed: string[] }> {
  const relatives = paths.map((path) => resolveWorkspacePath(path));
  if (relatives.length === 0) return { removed: [] };
  if (relatives.includes(".")) throw new PyroError("INVALID_ARGUMENT", "/workspace itself cannot be removed");
  const checks = relatives.map((relative) =>
    files.list(relative, { scope: FsScope.SELF, maxEntries: 1 }).then(
      (listing) => ({ relative, listing, error: null }),
      (error: unknown) => ({ relative, listing: null, error }),
    ),
  );
  for (const check of await Promise.all(checks)) {
    if (check.error !== null) throw guestFileError(check.error, check.relative, "removing");
    if (check.listing?.entries[0]?.type === "directory")
      throw new PyroError("INVALID_ARGUMENT", `${workspaceAbsolutePath(check.relative)} is a directory`);
  }
  await Promise.all(
    relatives.map((relative) =>
      files.remove(relative).catch((error: unknown) => {
        throw guestFileError(error, relative, "removing");
      }),
    ),
  );
  return { removed: relatives.map(workspaceAbsolutePath) };
}
