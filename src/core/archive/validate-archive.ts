import { PyroError } from "../../errors/index.js";
import { parseEntryName, symlinkAncestor } from "./entry-names.js";
import { DEFAULT_TAR_LIMITS, type TarLimits } from "./limits.js";
import { archiveStream } from "./source.js";
import { symlinkEscapes } from "./symlink-resolution.js";
import { readTarEntries, type TarEntry } from "./tar-entries.js";

export interface ArchiveContents {
  entry_count: number;
  /** Sum of the regular files' sizes. */
  bytes: number;
}

/**
 * Reads a whole seed or sync archive (decompressing it as archiveStream does) and refuses it with
 * ARCHIVE_UNSAFE, naming the entry and the reason, if anything in it could land outside the tree it
 * is unpacked into: absolute or `..` names, NUL bytes or over-long names, devices, FIFOs, entry
 * types this reader does not know, hard links to a place outside the tree, entries stored below a
 * symlink of the archive, or symlinks that resolve outside the tree (following the archive's other
 * symlinks). Nothing is written anywhere; call it before streaming the archive to the guest.
 */
export async function validateArchive(
  path: string,
  limits: TarLimits = DEFAULT_TAR_LIMITS,
): Promise<ArchiveContents> {
  const symlinks = new Map<string, string>();
  let entryCount = 0;
  let bytes = 0;
  for await (const entry of readTarEntries(archiveStream(path), limits)) {
    const refuse = (reason: string): PyroError => unsafeEntry(path, entry.name, reason);
    const parsed = parseEntryName(entry.name, limits.maxNameBytes);
    if (!parsed.ok) throw refuse(parsed.reason);
    const throughLink = symlinkAncestor(parsed.path, symlinks);
    if (throughLink !== undefined)
      throw refuse(`it is stored below the symlink ${JSON.stringify(throughLink)}`);
    const problem = entryProblem(entry, parsed.path, symlinks, limits);
    if (problem !== undefined) throw refuse(problem);
    if (entry.kind === "symlink") symlinks.set(parsed.path, entry.linkTarget ?? "");
    if (entry.kind === "file") bytes += entry.size;
    entryCount += 1;
  }
  for (const [linkPath, target] of symlinks) {
    if (symlinkEscapes(linkPath, target, symlinks)) {
      throw unsafeEntry(path, linkPath, `its symlink target ${JSON.stringify(target)} leaves the archive`);
    }
  }
  return { entry_count: entryCount, bytes };
}

function entryProblem(
  entry: TarEntry,
  path: string,
  symlinks: ReadonlyMap<string, string>,
  limits: TarLimits,
): string | undefined {
  switch (entry.kind) {
    case "file":
    case "directory":
      return path === "" && entry.kind === "file" ? "a file cannot be the archive root" : undefined;
    case "symlink": {
      const target = entry.linkTarget ?? "";
      if (path === "") return "a symlink cannot be the archive root";
      if (target.includes("\0") || Buffer.byteLength(target) > limits.maxNameBytes) {
        return "its symlink target is not a valid name";
      }
      return target.startsWith("/") ? `its symlink target ${JSON.stringify(target)} is absolute` : undefined;
    }
    case "hardlink": {
      // Hard-link targets are names of the archive, relative to its root.
      const target = parseEntryName(entry.linkTarget ?? "", limits.maxNameBytes);
      if (!target.ok || target.path === "") return "its hard-link target leaves the archive";
      const throughLink = symlinkAncestor(target.path, symlinks);
      return throughLink === undefined
        ? undefined
        : `its hard-link target is below the symlink ${JSON.stringify(throughLink)}`;
    }
    case "device":
    case "fifo":
      return `${entry.tarType} entries are not allowed`;
    case "other":
      return `entries of type ${entry.tarType} are not supported`;
  }
}

function unsafeEntry(archive: string, entryName: string, reason: string): PyroError {
  return new PyroError(
    "ARCHIVE_UNSAFE",
    `The archive ${archive} is refused: entry ${JSON.stringify(entryName)}: ${reason}.`,
    {
      details: { archive, entry: entryName, reason },
    },
  );
}
