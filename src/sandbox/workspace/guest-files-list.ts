import { PyroError } from "../../errors/index.js";
import type { FileOps } from "../../agent-protocol/file-ops.js";
import { FsScope, type FsEntry, type FsEntryType } from "../../agent-protocol/fs-messages.js";
import { guestFileError } from "./guest-file-errors.js";
import { resolveWorkspacePath, workspaceAbsolutePath } from "./paths.js";

export type WorkspaceEntryType = FsEntryType;

export interface WorkspaceEntry {
  /** Relative to /workspace. */
  path: string;
  type: WorkspaceEntryType;
  size: number;
  /** Permission bits in octal, e.g. "0644". */
  mode: string;
  /** ISO 8601. */
  mtime: string;
  link_target?: string;
}

export interface ListFilesOptions {
  recursive?: boolean;
  /** Most entries returned (default 10,000); more are reported as truncated. */
  limit?: number;
}

export interface ListFilesResult {
  /** The listed path in its absolute guest form (/workspace/…). */
  path: string;
  entries: WorkspaceEntry[];
  truncated: boolean;
}

export const DEFAULT_LIST_LIMIT = 10_000;

/**
 * A directory lists its children (all descendants with `recursive`), a file or a symlink lists
 * itself. A listed path that is a symlink is followed (confined by the agent); links below it are
 * reported as links.
 */
export async function listFiles(
  files: FileOps,
  path: string,
  options: ListFilesOptions = {},
): Promise<ListFilesResult> {
  const limit = options.limit ?? DEFAULT_LIST_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new PyroError("INVALID_ARGUMENT", `the entry limit must be a positive integer, not ${limit}`);
  }
  const relative = resolveWorkspacePath(path);
  const listing = await files
    .list(relative, { scope: options.recursive ? FsScope.RECURSIVE : FsScope.CHILDREN, maxEntries: limit })
    .catch((error: unknown) => {
      throw guestFileError(error, relative, "listing");
    });
  const entries = listing.entries.map((entry) => workspaceEntry(entry, relative));
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { path: workspaceAbsolutePath(relative), entries, truncated: listing.truncated };
}

/** An agent entry as the workspace reports it; `listed` is the relative path it was listed under. */
export function workspaceEntry(entry: FsEntry, listed: string): WorkspaceEntry {
  const name = entry.name.toString("utf8");
  return {
    // The name is empty for the listed path itself (a file, or a symlink listed directly).
    path: name === "" ? listed : listed === "." ? name : `${listed}/${name}`,
    type: entry.type,
    size: entry.size,
    mode: entry.mode.toString(8).padStart(4, "0"),
    mtime: new Date(Number(entry.mtimeNs / 1_000_000n)).toISOString(),
    ...(entry.type === "symlink" && entry.link !== undefined
      ? { link_target: entry.link.toString("utf8") }
      : {}),
  };
}
