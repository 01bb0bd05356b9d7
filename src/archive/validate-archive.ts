import { PyroError } from "../errors/index.js";
import { CapBudget, SEED_BYTES } from "./caps.js";
import { parseEntryName } from "./entry-names.js";
import { currentTarLimits, type TarLimits } from "./limits.js";
import { archiveStream } from "./source.js";
import { SymlinkSet } from "./symlink-resolution.js";
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
 * symlinks). Files adding up to more than PYRO_MAX_SEED_BYTES, or more entries than
 * PYRO_MAX_ARCHIVE_ENTRIES, are LIMIT_EXCEEDED. Nothing is written anywhere; call it before
 * streaming the archive to the guest.
 */
export async function validateArchive(
  path: string,
  limits: TarLimits = currentTarLimits(),
): Promise<ArchiveContents> {
  const symlinks = new SymlinkSet();
  const linkPaths: Array<{ path: string; target: string }> = [];
  const bytes = new CapBudget(SEED_BYTES);
  let entryCount = 0;
  for await (const entry of readTarEntries(archiveStream(path), limits)) {
    const refuse = (reason: string): PyroError => unsafeEntry(path, entry.name, reason);
    const parsed = parseEntryName(entry.name, limits.maxNameBytes);
    if (!parsed.ok) throw refuse(parsed.reason);
    const throughLink = symlinks.linkAbove(parsed.path);
    if (throughLink !== undefined)
      throw refuse(`it is stored below the symlink ${JSON.stringify(throughLink)}`);
    const problem = entryProblem(entry, parsed.path, symlinks, limits);
    if (problem !== undefined) throw refuse(problem);
    if (entry.kind === "symlink") {
      symlinks.add(parsed.path, entry.linkTarget ?? "");
      linkPaths.push({ path: parsed.path, target: entry.linkTarget ?? "" });
    }
    // Declared sizes are counted before the data is read: a huge claimed size is refused at once.
    if (entry.kind === "file") bytes.take(entry.size, `${JSON.stringify(entry.name)} brings ${path} past it`);
    entryCount += 1;
  }
  for (const link of linkPaths) {
    if (symlinks.escapes(link.path)) {
      throw unsafeEntry(
        path,
        link.path,
        `its symlink target ${JSON.stringify(link.target)} leaves the archive`,
      );
    }
  }
  return { entry_count: entryCount, bytes: bytes.total };
}

function entryProblem(
  entry: TarEntry,
  path: string,
  symlinks: SymlinkSet,
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
      const throughLink = symlinks.linkAbove(target.path);
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
