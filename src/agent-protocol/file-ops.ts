import type { AgentClient } from "./client.js";
import { MAX_BODY, MessageType } from "./constants.js";
import { decode } from "./messages.js";
import { FrameError, type Frame } from "./frame.js";
import {
  decodeFs,
  encodeFs,
  FS_LIST_MAX,
  FS_READ_MAX,
  FsScope,
  type FsDone,
  type FsEntry,
  type FsRequest,
  type FsRequestType,
  type FsScopeCode,
} from "./fs-messages.js";

/** An operation the agent refused; `code` is the agent's (NOT_FOUND, OUTSIDE_ROOT, IS_DIRECTORY, …). */
export class FileOpError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "FileOpError";
  }
}

/** Guest text in an error: one bounded line. */
const MAX_ERROR_TEXT = 500;
// Room left in a FS_WRITE frame for its other fields when data rides inline.
const INLINE_WRITE_BYTES = MAX_BODY - 8192;
// Bytes of names and link targets one listing may bring (plus a charge per entry).
const MAX_LISTING_BYTES = 64 * 1024 * 1024;
const ENTRY_CHARGE_BYTES = 64;

export type PathBytes = Buffer | string;
const asBytes = (path: PathBytes): Buffer => (typeof path === "string" ? Buffer.from(path, "utf8") : path);

export interface ListResult {
  entries: FsEntry[];
  truncated: boolean;
}

export interface WriteOptions {
  /** Permission bits; without it an existing file keeps its mode and a new one gets 0666 & ~umask. */
  mode?: number;
  /** Creates missing parent directories. */
  parents?: boolean;
  mtimeNs?: bigint;
  /** False skips the fsync before the rename: for bulk unpacking, where a crash loses the lot anyway. */
  durable?: boolean;
}

/**
 * The workspace file operations of the agent over one client connection. Requests are pipelined:
 * start as many as wanted, each resolves on its own reply. Every reply is validated and bounded
 * (the guest is untrusted); a malformed one fails the whole connection as a protocol error.
 */
export class FileOps {
  constructor(private readonly client: AgentClient) {}

  async list(path: PathBytes, options: { scope?: FsScopeCode; maxEntries: number }): Promise<ListResult> {
    const maxEntries = Math.min(options.maxEntries, FS_LIST_MAX);
    const entries: FsEntry[] = [];
    let bytes = 0;
    const done = await this.request(
      MessageType.FS_LIST,
      { path: asBytes(path), scope: options.scope ?? FsScope.CHILDREN, maxEntries },
      (frame) => {
        if (frame.type !== MessageType.FS_ENTRIES) return false;
        for (const entry of decodeFs.entries(frame.body)) {
          bytes += entry.name.length + (entry.link?.length ?? 0) + ENTRY_CHARGE_BYTES;
          if (entries.length >= maxEntries || bytes > MAX_LISTING_BYTES)
            throw new FrameError("BAD_MESSAGE", "the guest sent more entries than asked for");
          entries.push(entry);
        }
        return true;
      },
    );
    return { entries, truncated: done.truncated === true };
  }

  /** Up to `length` bytes from `offset` (less at the end of the file), and the file's size. */
  async read(path: PathBytes, offset: number, length: number): Promise<{ data: Buffer; size: number }> {
    const chunks: Buffer[] = [];
    let got = 0;
    const done = await this.request(
      MessageType.FS_READ,
      { path: asBytes(path), offset, length: Math.min(length, FS_READ_MAX) },
      (frame) => {
        if (frame.type !== MessageType.FS_DATA) return false;
        got += frame.body.length;
        if (got > length) throw new FrameError("BAD_MESSAGE", "the guest sent more bytes than asked for");
        chunks.push(frame.body);
        return true;
      },
    );
    if (done.size === undefined) throw new FrameError("BAD_MESSAGE", "a read reply lacks the size");
    return { data: Buffer.concat(chunks), size: done.size };
  }

  /** A whole file, read in ranges; `truncated` when it holds more than `maxBytes`. */
  async readAll(
    path: PathBytes,
    maxBytes: number,
  ): Promise<{ data: Buffer; size: number; truncated: boolean }> {
    const first = await this.read(path, 0, Math.min(maxBytes + 1, FS_READ_MAX));
    const chunks = [first.data];
    let got = first.data.length;
    while (got <= maxBytes && got < first.size) {
      const next = await this.read(path, got, Math.min(maxBytes + 1 - got, FS_READ_MAX));
      if (next.data.length === 0) break;
      chunks.push(next.data);
      got += next.data.length;
    }
    const data = Buffer.concat(chunks);
    return { data: data.subarray(0, maxBytes), size: first.size, truncated: data.length > maxBytes };
  }

  /** Writes atomically (temp file, fsync, rename); resolves with the bytes written. */
  async write(
    path: PathBytes,
    content: Buffer | AsyncIterable<Buffer | Uint8Array>,
    options: WriteOptions = {},
  ): Promise<number> {
    const request: FsRequest = { path: asBytes(path), parents: options.parents === true };
    if (options.mode !== undefined) request.mode = options.mode;
    if (options.mtimeNs !== undefined) request.mtimeNs = options.mtimeNs;
    if (options.durable === false) request.noFsync = true;
    if (Buffer.isBuffer(content) && content.length <= INLINE_WRITE_BYTES) {
      const done = await this.request(MessageType.FS_WRITE, { ...request, data: content }, () => false, true);
      return done.size ?? 0;
    }
    let stream = 0;
    const reply = this.request(
      MessageType.FS_WRITE,
      request,
      () => false,
      false,
      (id) => (stream = id),
    );
    let failed = false;
    reply.catch(() => (failed = true));
    for await (const piece of Buffer.isBuffer(content) ? [content] : content) {
      const data = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
      for (let offset = 0; offset < data.length && !failed; offset += MAX_BODY) {
        if (!this.client.send(encodeFs.data(stream, data.subarray(offset, offset + MAX_BODY))))
          await this.client.drained();
      }
      if (failed) break;
    }
    if (!failed) this.client.send(encodeFs.data(stream, Buffer.alloc(0), true));
    return (await reply).size ?? 0;
  }

  /** Resolves once the connection can take more requests (callers pipelining many wait on it). */
  flow(): Promise<void> {
    return this.client.drained();
  }

  async mkdir(path: PathBytes, options: { parents?: boolean; mode?: number } = {}): Promise<void> {
    const request: FsRequest = { path: asBytes(path), parents: options.parents === true };
    if (options.mode !== undefined) request.mode = options.mode;
    await this.request(MessageType.FS_MKDIR, request);
  }

  async remove(path: PathBytes, options: { recursive?: boolean } = {}): Promise<void> {
    await this.request(MessageType.FS_REMOVE, { path: asBytes(path), recursive: options.recursive === true });
  }

  async rename(path: PathBytes, target: PathBytes): Promise<void> {
    await this.request(MessageType.FS_RENAME, { path: asBytes(path), target: asBytes(target) });
  }

  async chmod(path: PathBytes, mode: number): Promise<void> {
    await this.request(MessageType.FS_CHMOD, { path: asBytes(path), mode });
  }

  /** The path with every symlink resolved, relative to the root ("" for the root itself). */
  async realpath(path: PathBytes): Promise<Buffer> {
    const done = await this.request(MessageType.FS_REALPATH, { path: asBytes(path) });
    if (done.path === undefined) throw new FrameError("BAD_MESSAGE", "a realpath reply lacks the path");
    return done.path;
  }

  /** A symbolic link holding `target`, or (hard) another name for the file at `target`. */
  async link(path: PathBytes, target: PathBytes, options: { hard?: boolean } = {}): Promise<void> {
    await this.request(MessageType.FS_LINK, {
      path: asBytes(path),
      target: asBytes(target),
      hard: options.hard === true,
    });
  }

  /**
   * Sends one request and collects its stream until FS_DONE or ERROR. `onReply` takes the
   * operation's own reply frames (returns false for a type it does not expect).
   */
  private request(
    type: FsRequestType,
    request: FsRequest,
    onReply: (frame: Frame) => boolean = () => false,
    end = true,
    onStream: (stream: number) => void = () => undefined,
  ): Promise<FsDone> {
    return new Promise<FsDone>((resolve, reject) => {
      const stream = this.client.openStream((frame) => {
        if (frame.type === MessageType.FS_DONE) {
          resolve(decodeFs.done(frame.body));
          return true;
        }
        if (frame.type === MessageType.ERROR) {
          const error = decode.error(frame.body);
          const text = error.message.slice(0, MAX_ERROR_TEXT).replace(/\s+/g, " ");
          reject(new FileOpError(error.code.slice(0, 64), text));
          return true;
        }
        if (!onReply(frame))
          throw new FrameError(
            "BAD_MESSAGE",
            `unexpected frame 0x${frame.type.toString(16)} on a file stream`,
          );
        return false;
      }, reject);
      onStream(stream);
      this.client.send(encodeFs.request(type, stream, request, end));
    });
  }
}
