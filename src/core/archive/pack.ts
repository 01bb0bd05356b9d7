import { stat } from "node:fs/promises";
import { basename, dirname, resolve } from "node:path";
import { Pack, type WriteEntry } from "tar";
import { PyroError } from "../../errors/index.js";
import { parseEntryName } from "./entry-names.js";
import { DEFAULT_TAR_LIMITS } from "./limits.js";
import { listTree, type SkippedEntry } from "./walk-tree.js";

export interface PackedSource {
  /** A plain tar stream, read lazily: nothing is held beyond the current chunk. */
  stream: AsyncIterable<Buffer>;
  entry_count: number;
  /** Sum of the regular files' sizes. */
  bytes: number;
  skipped: SkippedEntry[];
}

/**
 * A tar stream of a directory's contents with relative names (no `./`), portable headers (no
 * owner ids or names) and symlinks stored as links. The tree is listed and checked first (see
 * listTree), then exactly the listed paths are packed.
 */
export async function packDirectory(directory: string): Promise<PackedSource> {
  const root = resolve(directory);
  const listing = await listTree(root);
  const pack = new Pack({ cwd: root, portable: true, noDirRecurse: true, strict: true });
  for (const path of listing.paths) pack.add(path);
  pack.end();
  return { stream: pack, entry_count: listing.entry_count, bytes: listing.bytes, skipped: listing.skipped };
}

/** A one-entry tar stream of a regular file, stored under `name` (a plain relative name). */
export async function packFile(path: string, name: string): Promise<PackedSource> {
  const absolute = resolve(path);
  const parsed = parseEntryName(name, DEFAULT_TAR_LIMITS.maxNameBytes);
  if (!parsed.ok || parsed.path === "") {
    throw new PyroError("INVALID_ARGUMENT", `${JSON.stringify(name)} cannot name a file in an archive.`);
  }
  const stats = await stat(absolute).catch((error: unknown) => {
    throw new PyroError("FILE_NOT_FOUND", `The file ${absolute} does not exist or cannot be read.`, {
      cause: error,
    });
  });
  if (!stats.isFile()) throw new PyroError("INVALID_ARGUMENT", `${absolute} is not a regular file.`);
  const pack = new Pack({
    cwd: dirname(absolute),
    portable: true,
    follow: true,
    strict: true,
    // The header is built after this hook, so the entry is stored under the requested name.
    onWriteEntry: (entry: WriteEntry) => {
      entry.path = parsed.path;
    },
  });
  pack.add(basename(absolute));
  pack.end();
  return { stream: pack, entry_count: 1, bytes: stats.size, skipped: [] };
}
