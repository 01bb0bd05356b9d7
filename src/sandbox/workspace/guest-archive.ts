import { PassThrough } from "node:stream";
import { Header, Pax } from "tar";
import { ARCHIVE_ENTRIES, capValue, limitExceeded } from "../../archive/index.js";
import type { FileOps } from "../../agent-protocol/file-ops.js";
import { FS_READ_MAX, FsScope, type FsEntry } from "../../agent-protocol/fs-messages.js";
import { PyroError } from "../../errors/index.js";
import { guestFileError } from "./guest-file-errors.js";

// Reads run ahead of the tar writer by at most this many requests and bytes: many small files
// cost one round trip between them, not one each.
const READ_AHEAD_REQUESTS = 256;
const READ_AHEAD_BYTES = 16 * 1024 * 1024;
const BLOCK = 512;

type EntryTypeName = "File" | "Directory" | "SymbolicLink";
const TAR_TYPES: Partial<Record<FsEntry["type"], EntryTypeName>> = {
  file: "File",
  directory: "Directory",
  symlink: "SymbolicLink",
};

/**
 * A tar stream of `path` (relative to /workspace; "." for everything), built on the host from the
 * agent's listing and reads — the names GNU `tar -c PATH` gives (`./`, `./a`, `src/`, `src/a`).
 * Devices, fifos and sockets are left out. The stream ends when the archive does; `done` rejects
 * if the guest refused or failed.
 */
export function archiveFromGuest(files: FileOps, path: string): { stream: PassThrough; done: Promise<void> } {
  const stream = new PassThrough({ highWaterMark: 1024 * 1024 });
  // A consumer that already gave up no longer listens; `done` still carries the failure.
  stream.on("error", () => undefined);
  const done = (async () => {
    for await (const piece of batched(tarOfGuest(files, path))) {
      if (stream.destroyed) return; // the consumer gave up (a limit, a bad entry)
      if (!stream.write(piece)) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            stream.off("drain", done);
            stream.off("close", done);
            resolve();
          };
          stream.on("drain", done);
          stream.on("close", done);
        });
      }
    }
    stream.end();
  })().catch((error: unknown) => {
    const failure = guestFileError(error, path, "archiving");
    stream.destroy(failure instanceof Error ? failure : new Error(String(failure)));
    throw failure;
  });
  // The consumer sees failures through the stream; keep `done` from being an unhandled rejection.
  done.catch(() => undefined);
  return { stream, done };
}

// Tar pieces are small (a 512-byte header, a short file); the consumer gets them in larger runs.
const BATCH_BYTES = 256 * 1024;

async function* batched(pieces: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let run: Buffer[] = [];
  let size = 0;
  for await (const piece of pieces) {
    run.push(piece);
    size += piece.length;
    if (size >= BATCH_BYTES) {
      yield Buffer.concat(run);
      run = [];
      size = 0;
    }
  }
  if (size > 0) yield Buffer.concat(run);
}

async function* tarOfGuest(files: FileOps, path: string): AsyncGenerator<Buffer> {
  const self = (await files.list(path, { scope: FsScope.SELF, maxEntries: 1 })).entries[0];
  if (self === undefined) throw new PyroError("EXEC_FAILED", "the guest listed nothing for the archive root");
  const base = path === "." ? "." : path;
  // `raw` is the path in the guest's own bytes (names need not be UTF-8); `name` goes in the tar.
  const entries: Array<{ name: string; raw: Buffer; entry: FsEntry }> = [
    { name: base, raw: Buffer.from(base), entry: self },
  ];
  if (self.type === "directory") {
    const limit = capValue(ARCHIVE_ENTRIES);
    const below = await files.list(path, { scope: FsScope.RECURSIVE, maxEntries: limit });
    if (below.truncated) throw limitExceeded(ARCHIVE_ENTRIES, limit, `${path} holds more entries`);
    for (const entry of below.entries) {
      const raw = Buffer.concat([Buffer.from(`${base}/`), entry.name]);
      entries.push({ name: raw.toString("utf8"), raw, entry });
    }
  }
  const reads = new ReadAhead(files, entries);
  for (let index = 0; index < entries.length; index++) {
    const { name, entry } = entries[index] as { name: string; entry: FsEntry };
    const type = TAR_TYPES[entry.type];
    if (type === undefined) continue;
    yield header(type === "Directory" ? `${name}/` : name, entry, type);
    if (type !== "File") continue;
    let sent = 0;
    for await (const chunk of reads.contents(index)) {
      // A file that grew since the listing is cut at its listed size, one that shrank is padded.
      const take = chunk.subarray(0, entry.size - sent);
      sent += take.length;
      if (take.length > 0) yield take;
    }
    const padding = (BLOCK - (entry.size % BLOCK)) % BLOCK;
    yield Buffer.alloc(entry.size - sent + padding);
  }
  yield Buffer.alloc(2 * BLOCK);
}

function header(name: string, entry: FsEntry, type: EntryTypeName): Buffer {
  const data = {
    path: name,
    mode: entry.mode,
    uid: entry.uid,
    gid: entry.gid,
    size: type === "File" ? entry.size : 0,
    mtime: new Date(Number(entry.mtimeNs / 1_000_000n)),
    type,
    ...(entry.link !== undefined && type === "SymbolicLink" ? { linkpath: entry.link.toString("utf8") } : {}),
  };
  const block = new Header(data);
  const needsPax = block.encode();
  if (block.block === undefined) throw new PyroError("INTERNAL", "tar header not encoded");
  return needsPax ? Buffer.concat([new Pax(data).encode(), block.block]) : block.block;
}

/**
 * Starts the reads of upcoming files early, range by range within a window of requests and bytes,
 * and hands out each file's bytes in order.
 */
class ReadAhead {
  private readonly ranges: Array<{ index: number; offset: number; length: number }> = [];
  private readonly started = new Map<number, Array<Promise<Buffer>>>();
  private cursor = 0;
  private inFlightBytes = 0;
  private inFlightRequests = 0;

  constructor(
    private readonly files: FileOps,
    private readonly entries: Array<{ raw: Buffer; entry: FsEntry }>,
  ) {
    entries.forEach(({ entry }, index) => {
      if (entry.type !== "file") return;
      for (let offset = 0; offset < entry.size; offset += FS_READ_MAX)
        this.ranges.push({ index, offset, length: Math.min(FS_READ_MAX, entry.size - offset) });
    });
  }

  async *contents(index: number): AsyncGenerator<Buffer> {
    const { entry } = this.entries[index] as { entry: FsEntry };
    for (let offset = 0; offset < entry.size; offset += FS_READ_MAX) {
      this.fill();
      const reads = this.started.get(index) ?? [];
      const read = reads.shift();
      if (read === undefined) throw new PyroError("INTERNAL", "a read range was not started in order");
      const data = await read;
      this.inFlightBytes -= Math.min(FS_READ_MAX, entry.size - offset);
      this.inFlightRequests -= 1;
      yield data;
    }
    this.started.delete(index);
  }

  private fill(): void {
    while (this.cursor < this.ranges.length) {
      const range = this.ranges[this.cursor] as { index: number; offset: number; length: number };
      const idle = this.inFlightRequests === 0;
      if (
        !idle &&
        (this.inFlightRequests >= READ_AHEAD_REQUESTS || this.inFlightBytes + range.length > READ_AHEAD_BYTES)
      )
        return;
      const { raw } = this.entries[range.index] as { raw: Buffer };
      const read = this.files.read(raw, range.offset, range.length).then((result) => result.data);
      read.catch(() => undefined); // awaited in order by contents(); not unhandled meanwhile
      let reads = this.started.get(range.index);
      if (reads === undefined) this.started.set(range.index, (reads = []));
      reads.push(read);
      this.inFlightBytes += range.length;
      this.inFlightRequests += 1;
      this.cursor++;
    }
  }
}
