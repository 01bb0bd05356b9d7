import { Parser, type ReadEntry } from "tar";
import { PyroError } from "../errors/index.js";
import { ARCHIVE_ENTRIES, limitExceeded } from "./caps.js";
import { currentTarLimits, MAX_PAX_HEADER_BYTES, type TarLimits } from "./limits.js";

export type TarEntryKind = "file" | "directory" | "symlink" | "hardlink" | "device" | "fifo" | "other";

/** One entry of a tar stream, its name still raw (see parseEntryName). */
export interface TarEntry {
  readonly name: string;
  readonly kind: TarEntryKind;
  /** The tar type name, for messages (`File`, `SymbolicLink`, `CharacterDevice`, …). */
  readonly tarType: string;
  /** Permission and special bits as stored (`& 0o7777`). */
  readonly mode: number;
  /** Owner as stored (0 when the header has none). */
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly linkTarget: string | undefined;
  /** Modification time as stored, if any. */
  readonly mtime: Date | undefined;
  /** The entry's bytes, read from the source as they are consumed; skipped if left unread. */
  readonly body: AsyncIterable<Buffer>;
}

const KIND_BY_TAR_TYPE: Readonly<Record<string, TarEntryKind>> = {
  File: "file",
  OldFile: "file",
  ContiguousFile: "file",
  Directory: "directory",
  GNUDumpDir: "directory",
  SymbolicLink: "symlink",
  Link: "hardlink",
  CharacterDevice: "device",
  BlockDevice: "device",
  FIFO: "fifo",
};

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);

/**
 * Reads a plain (uncompressed) tar stream entry by entry, pulling from `source` only as entries and
 * bodies are consumed, so memory stays bounded by one source chunk whatever the archive holds.
 * Entry types node-tar does not understand are reported as kind `other` (never silently dropped:
 * another tar might extract them). Malformed streams and exceeded limits throw ARCHIVE_UNSAFE.
 */
export async function* readTarEntries(
  source: AsyncIterable<Buffer>,
  limits: TarLimits = currentTarLimits(),
): AsyncGenerator<TarEntry, void, undefined> {
  const parser = new Parser({
    strict: true,
    brotli: false,
    zstd: false,
    maxMetaEntrySize: MAX_PAX_HEADER_BYTES,
  });
  const ready: Array<{ entry: ReadEntry; ignored: boolean }> = [];
  let failure: unknown;
  parser.on("entry", (entry: ReadEntry) => ready.push({ entry, ignored: false }));
  parser.on("ignoredEntry", (entry: ReadEntry) => ready.push({ entry, ignored: true }));
  parser.on("error", (error: unknown) => (failure ??= error));

  const input = source[Symbol.asyncIterator]();
  let inputDone = false;
  let head: Buffer | undefined = Buffer.alloc(0);

  /** Feeds the parser one more chunk; false once the source is exhausted. */
  const pull = async (): Promise<boolean> => {
    if (inputDone) return false;
    const next = await input.next();
    if (next.done === true) {
      inputDone = true;
      // An empty stream is an empty archive, not a broken one.
      if (head === undefined) parser.end();
      else if (head.length > 0) parser.end(head);
    } else if (head !== undefined) {
      // The parser would silently gunzip; a compressed stream here means the caller got it wrong.
      head = Buffer.concat([head, next.value]);
      if (head.length >= GZIP_MAGIC.length) {
        if (head.subarray(0, GZIP_MAGIC.length).equals(GZIP_MAGIC)) throw malformed("a compressed stream");
        parser.write(head);
        head = undefined;
      }
    } else {
      parser.write(next.value);
    }
    if (failure !== undefined) throw malformed(failure);
    return next.done !== true;
  };

  let entryCount = 0;
  let nameBytes = 0;
  try {
    for (;;) {
      while (ready.length === 0) if (!(await pull())) return;
      const { entry, ignored } = ready.shift() as { entry: ReadEntry; ignored: boolean };
      entryCount += 1;
      nameBytes += Buffer.byteLength(entry.path) + Buffer.byteLength(entry.linkpath ?? "");
      if (entryCount > limits.maxEntries) {
        throw limitExceeded(ARCHIVE_ENTRIES, limits.maxEntries);
      }
      if (nameBytes > limits.maxTotalNameBytes) {
        throw new PyroError(
          "ARCHIVE_UNSAFE",
          `The archive's names add up to more than ${limits.maxTotalNameBytes} bytes.`,
        );
      }
      yield {
        name: entry.path,
        kind: ignored ? "other" : (KIND_BY_TAR_TYPE[entry.type] ?? "other"),
        tarType: entry.type,
        mode: entry.mode ?? 0,
        uid: entry.uid ?? 0,
        gid: entry.gid ?? 0,
        size: entry.size,
        linkTarget: entry.linkpath,
        mtime: entry.mtime,
        body: entryBody(entry, pull),
      };
      await skipRest(entry, pull);
    }
  } finally {
    if (!inputDone) await input.return?.();
  }
}

async function* entryBody(entry: ReadEntry, pull: () => Promise<boolean>): AsyncGenerator<Buffer> {
  for (;;) {
    const chunk = entry.read();
    if (chunk !== null) {
      yield chunk;
      continue;
    }
    if (entry.emittedEnd) return;
    if (!(await pull())) throw malformed("the stream ended inside an entry");
  }
}

async function skipRest(entry: ReadEntry, pull: () => Promise<boolean>): Promise<void> {
  while (!entry.emittedEnd) {
    if (entry.read() === null && !entry.emittedEnd && !(await pull())) {
      throw malformed("the stream ended inside an entry");
    }
  }
}

function malformed(cause: unknown): PyroError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new PyroError("ARCHIVE_UNSAFE", `Not a valid tar stream: ${reason}.`, {
    hint: "Pass a complete, uncompressed .tar or a gzip-compressed .tar.gz/.tgz archive.",
    cause,
  });
}
