import { FLAG_END, MessageType, Tag } from "./constants.js";
import { FieldReader, decodeFields, encodeFields, u32, type Field } from "./fields.js";
import { FrameError, type Frame } from "./frame.js";

/** Bounds the agent keeps too (guest/src/fsmsg.h). */
export const FS_PATH_MAX = 4095;
export const FS_READ_MAX = 4 * 1024 * 1024;
export const FS_LIST_MAX = 1_000_000;

export type FsRequestType =
  | typeof MessageType.FS_LIST
  | typeof MessageType.FS_READ
  | typeof MessageType.FS_WRITE
  | typeof MessageType.FS_MKDIR
  | typeof MessageType.FS_REMOVE
  | typeof MessageType.FS_RENAME
  | typeof MessageType.FS_CHMOD
  | typeof MessageType.FS_REALPATH
  | typeof MessageType.FS_LINK;

/** FS_LIST scope: the path itself (not followed), a directory's children, or all descendants. */
export const FsScope = { SELF: 0, CHILDREN: 1, RECURSIVE: 2 } as const;
export type FsScopeCode = (typeof FsScope)[keyof typeof FsScope];

export type FsEntryType = "file" | "directory" | "symlink" | "other";
const TYPE_CODES: Record<FsEntryType, number> = { file: 1, directory: 2, symlink: 3, other: 4 };
const TYPE_NAMES: Record<number, FsEntryType> = { 1: "file", 2: "directory", 3: "symlink", 4: "other" };

/** One listed entry; names and link targets are raw bytes as the file system holds them. */
export interface FsEntry {
  /** Relative to the listed path; empty for the path itself. */
  name: Buffer;
  type: FsEntryType;
  /** Permission and special bits (& 0o7777). */
  mode: number;
  size: number;
  mtimeNs: bigint;
  uid: number;
  gid: number;
  link?: Buffer;
}

/** Every request shares one shape; which fields are required depends on the type. */
export interface FsRequest {
  path: Buffer;
  target?: Buffer;
  mode?: number;
  scope?: FsScopeCode;
  maxEntries?: number;
  offset?: number;
  length?: number;
  parents?: boolean;
  recursive?: boolean;
  hard?: boolean;
  mtimeNs?: bigint;
  /** FS_WRITE: skip the fsync before the rename (still atomic for readers, not across a crash). */
  noFsync?: boolean;
  /** FS_WRITE: the first (with FLAG_END: all) of the file's bytes. */
  data?: Buffer;
}

export interface FsDone {
  path?: Buffer;
  size?: number;
  count?: number;
  truncated?: boolean;
}

const u64 = (tag: number, value: bigint | number): Field => {
  const buffer = Buffer.alloc(8);
  buffer.writeBigUInt64BE(BigInt(value));
  return { tag, value: buffer };
};
const bytes = (tag: number, value: Buffer): Field => {
  if (value.includes(0)) throw new FrameError("BAD_MESSAGE", "paths may not contain NUL");
  if (value.length > FS_PATH_MAX) throw new FrameError("BAD_MESSAGE", "path field is too long");
  return { tag, value };
};
const flag = (value: boolean | undefined): number => (value === true ? 1 : 0);

export const encodeFs = {
  request(type: FsRequestType, stream: number, request: FsRequest, end = false): Frame {
    const fields: Field[] = [bytes(Tag.PATH, request.path)];
    const needsTarget = type === MessageType.FS_RENAME || type === MessageType.FS_LINK;
    if (needsTarget) fields.push(bytes(Tag.TARGET, request.target ?? Buffer.alloc(0)));
    if (request.mode !== undefined) fields.push(u32(Tag.FILE_MODE, request.mode));
    if (type === MessageType.FS_LIST) {
      fields.push(u32(Tag.SCOPE, request.scope ?? FsScope.CHILDREN));
      fields.push(u32(Tag.MAX_ENTRIES, request.maxEntries ?? 0));
    }
    if (type === MessageType.FS_READ) {
      fields.push(u64(Tag.OFFSET, request.offset ?? 0), u32(Tag.LENGTH, request.length ?? 0));
    }
    if (type === MessageType.FS_WRITE || type === MessageType.FS_MKDIR)
      fields.push(u32(Tag.PARENTS, flag(request.parents)));
    if (type === MessageType.FS_REMOVE) fields.push(u32(Tag.RECURSIVE, flag(request.recursive)));
    if (type === MessageType.FS_LINK) fields.push(u32(Tag.HARD, flag(request.hard)));
    if (request.mtimeNs !== undefined) fields.push(u64(Tag.MTIME_NS, request.mtimeNs));
    if (request.data !== undefined) fields.push({ tag: Tag.DATA, value: request.data });
    if (type === MessageType.FS_WRITE && request.noFsync === true) fields.push(u32(Tag.NO_FSYNC, 1));
    return { type, stream, flags: end ? FLAG_END : 0, body: encodeFields(fields) };
  },
  data: (stream: number, data: Buffer, end = false): Frame => ({
    type: MessageType.FS_DATA,
    stream,
    flags: end ? FLAG_END : 0,
    body: data,
  }),
  entries(stream: number, entries: FsEntry[]): Frame {
    const fields = entries.map((entry) => ({ tag: Tag.ENTRY, value: encodeEntry(entry) }));
    return { type: MessageType.FS_ENTRIES, stream, flags: 0, body: encodeFields(fields) };
  },
  done(stream: number, done: FsDone): Frame {
    const fields: Field[] = [];
    if (done.path !== undefined) fields.push(bytes(Tag.PATH, done.path));
    if (done.size !== undefined) fields.push(u64(Tag.SIZE, done.size));
    if (done.count !== undefined) fields.push(u32(Tag.COUNT, done.count));
    if (done.truncated !== undefined) fields.push(u32(Tag.TRUNCATED, flag(done.truncated)));
    return { type: MessageType.FS_DONE, stream, flags: 0, body: encodeFields(fields) };
  },
};

function encodeEntry(entry: FsEntry): Buffer {
  return encodeFields([
    bytes(Tag.E_NAME, entry.name),
    u32(Tag.E_TYPE, TYPE_CODES[entry.type]),
    u32(Tag.E_MODE, entry.mode),
    u64(Tag.E_SIZE, entry.size),
    u64(Tag.E_MTIME_NS, entry.mtimeNs),
    u32(Tag.E_UID, entry.uid),
    u32(Tag.E_GID, entry.gid),
    ...(entry.link === undefined ? [] : [bytes(Tag.E_LINK, entry.link)]),
  ]);
}

/** Strict reads of one body's fields: integer widths, ranges and required fields are checked. */
/** The fields of a file-operation message: the protocol's field reader plus the path rule. */
class FsFields extends FieldReader {
  static from(body: Buffer): FsFields {
    return new FsFields(decodeFields(body));
  }

  path(tag: number): Buffer | undefined {
    const value = this.raw(tag);
    if (value === undefined) return undefined;
    if (value.includes(0) || value.length > FS_PATH_MAX)
      throw new FrameError("BAD_MESSAGE", `field 0x${tag.toString(16)} is not a valid path`);
    return Buffer.from(value);
  }
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new FrameError("BAD_MESSAGE", `missing field ${what}`);
  return value;
}

export const decodeFs = {
  request(type: FsRequestType, body: Buffer): FsRequest {
    const f = FsFields.from(body);
    const request: FsRequest = { path: required(f.path(Tag.PATH), "path") };
    const target = f.path(Tag.TARGET);
    const mode = f.u32(Tag.FILE_MODE);
    const scope = f.u32(Tag.SCOPE);
    const maxEntries = f.u32(Tag.MAX_ENTRIES);
    const offset = f.safeU64(Tag.OFFSET);
    const length = f.u32(Tag.LENGTH);
    const parents = f.u32(Tag.PARENTS);
    const recursive = f.u32(Tag.RECURSIVE);
    const hard = f.u32(Tag.HARD);
    const mtimeNs = f.bigU64(Tag.MTIME_NS);
    const data = f.raw(Tag.DATA);
    const noFsync = f.u32(Tag.NO_FSYNC);
    if (target !== undefined) request.target = target;
    if (mode !== undefined) request.mode = mode;
    if (scope !== undefined) {
      if (scope !== 0 && scope !== 1 && scope !== 2) throw new FrameError("BAD_MESSAGE", "bad scope");
      request.scope = scope;
    }
    if (maxEntries !== undefined) request.maxEntries = maxEntries;
    if (offset !== undefined) request.offset = offset;
    if (length !== undefined) request.length = length;
    if (parents !== undefined) request.parents = parents === 1;
    if (recursive !== undefined) request.recursive = recursive === 1;
    if (hard !== undefined) request.hard = hard === 1;
    if (mtimeNs !== undefined) request.mtimeNs = mtimeNs;
    if (data !== undefined) request.data = Buffer.from(data);
    if (noFsync !== undefined) request.noFsync = noFsync === 1;
    if ((mode ?? 0) > 0o7777 || (length ?? 0) > FS_READ_MAX)
      throw new FrameError("BAD_MESSAGE", "file request field out of range");
    if (type === MessageType.FS_LIST) required(request.maxEntries, "max_entries");
    if (type === MessageType.FS_READ) required(request.length, "length");
    if (type === MessageType.FS_CHMOD) required(request.mode, "mode");
    if (type === MessageType.FS_RENAME || type === MessageType.FS_LINK) required(request.target, "target");
    return request;
  },
  /** An FS_ENTRIES body from the guest: every entry fully validated. */
  entries(body: Buffer): FsEntry[] {
    return FsFields.from(body)
      .all(Tag.ENTRY)
      .map((value) => {
        const f = FsFields.from(value);
        const type = TYPE_NAMES[required(f.u32(Tag.E_TYPE), "type")];
        const mode = required(f.u32(Tag.E_MODE), "mode");
        if (type === undefined || mode > 0o7777) throw new FrameError("BAD_MESSAGE", "malformed entry");
        const link = f.path(Tag.E_LINK);
        return {
          name: required(f.path(Tag.E_NAME), "name"),
          type,
          mode,
          size: required(f.safeU64(Tag.E_SIZE), "size"),
          mtimeNs: required(f.bigU64(Tag.E_MTIME_NS), "mtime"),
          uid: required(f.u32(Tag.E_UID), "uid"),
          gid: required(f.u32(Tag.E_GID), "gid"),
          ...(link === undefined ? {} : { link }),
        };
      });
  },
  done(body: Buffer): FsDone {
    const f = FsFields.from(body);
    const done: FsDone = {};
    const path = f.path(Tag.PATH);
    const size = f.safeU64(Tag.SIZE);
    const count = f.u32(Tag.COUNT);
    const truncated = f.u32(Tag.TRUNCATED);
    if (path !== undefined) done.path = path;
    if (size !== undefined) done.size = size;
    if (count !== undefined) done.count = count;
    if (truncated !== undefined) done.truncated = truncated === 1;
    return done;
  },
};
