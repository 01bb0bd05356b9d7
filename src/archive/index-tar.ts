import { createHash } from "node:crypto";
import { parseEntryName } from "./entry-names.js";
import { currentTarLimits, MAX_TEXT_FILE_BYTES, type TarLimits } from "./limits.js";
import { readTarEntries, type TarEntry } from "./tar-entries.js";
import { textOf } from "./text-content.js";

export type IndexEntryType = "file" | "directory" | "symlink" | "other";

export interface IndexEntry {
  type: IndexEntryType;
  /** Permission bits as stored (`& 0o7777`). */
  mode: number;
  size: number;
  /** Hex SHA-256 of a file's content; null for anything else. */
  sha256: string | null;
  link_target: string | null;
  /** Whether a file looks like text (see textOf): a diff can show it as a unified patch. */
  is_text: boolean;
  /** The text of a text file, unless `keepText` declined it or the text budget was spent. */
  text: string | null;
}

export type TarIndex = Map<string, IndexEntry>;

export interface IndexOptions {
  /** Whether to keep the text of a text file, decided once its digest is known. Default: keep. */
  keepText?: (path: string, sha256: string) => boolean;
  /** Bytes of text kept in all; further text files keep only `is_text`. Default 64 MiB. */
  maxTextBytes?: number;
  limits?: TarLimits;
}

const DEFAULT_MAX_TEXT_BYTES = 64 * 1024 * 1024;

/**
 * Indexes a tar stream by normalised relative path (no `./`, no trailing `/`, the root `.` left
 * out): type, mode, size, digest, link target and, for text files, the text. Entries with unsafe
 * names are left out (they are not part of any tree). A hard link gets its target's content.
 * Files are streamed: only a text candidate (≤ 512 KiB) is ever held whole.
 */
export async function indexTar(source: AsyncIterable<Buffer>, options: IndexOptions = {}): Promise<TarIndex> {
  const limits = options.limits ?? currentTarLimits();
  const keepText = options.keepText ?? (() => true);
  let textBudget = options.maxTextBytes ?? DEFAULT_MAX_TEXT_BYTES;
  const index: TarIndex = new Map();
  for await (const entry of readTarEntries(source, limits)) {
    const parsed = parseEntryName(entry.name, limits.maxNameBytes);
    if (!parsed.ok || parsed.path === "") continue;
    if (entry.kind !== "file") {
      index.set(parsed.path, nonFileEntry(entry, index, limits));
      continue;
    }
    const { sha256, content } = await digestBody(entry);
    const text = content === null ? null : textOf(content);
    const textBytes = content?.length ?? 0;
    const kept = text !== null && textBytes <= textBudget && keepText(parsed.path, sha256);
    if (kept) textBudget -= textBytes;
    index.set(parsed.path, {
      type: "file",
      mode: entry.mode,
      size: entry.size,
      sha256,
      link_target: null,
      is_text: text !== null,
      text: kept ? text : null,
    });
  }
  return index;
}

async function digestBody(entry: TarEntry): Promise<{ sha256: string; content: Buffer | null }> {
  const hash = createHash("sha256");
  const chunks: Buffer[] | null = entry.size <= MAX_TEXT_FILE_BYTES ? [] : null;
  for await (const chunk of entry.body) {
    hash.update(chunk);
    chunks?.push(chunk);
  }
  return { sha256: hash.digest("hex"), content: chunks === null ? null : Buffer.concat(chunks) };
}

function nonFileEntry(entry: TarEntry, index: TarIndex, limits: TarLimits): IndexEntry {
  const base = { mode: entry.mode, size: 0, sha256: null, link_target: null, is_text: false, text: null };
  switch (entry.kind) {
    case "directory":
      return { ...base, type: "directory" };
    case "symlink":
      return { ...base, type: "symlink", link_target: entry.linkTarget ?? "" };
    case "hardlink": {
      // tar stores later names of a hard-linked file as links to the first; same content.
      const target = parseEntryName(entry.linkTarget ?? "", limits.maxNameBytes);
      const linked = target.ok ? index.get(target.path) : undefined;
      return linked?.type === "file" ? { ...linked } : { ...base, type: "other" };
    }
    default:
      return { ...base, type: "other" };
  }
}
