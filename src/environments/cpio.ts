/**
 * A minimal writer for the "newc" cpio format (magic 070701), the format the Linux kernel unpacks
 * as an initramfs. Archives may be concatenated: the kernel unpacks each one in turn, so a second
 * archive (e.g. one holding /init) can be appended to a prebuilt one at boot.
 */

interface CpioEntryBase {
  /** Path inside the archive; a leading "/" is dropped. */
  path: string;
  /** Permission bits (0o7777 at most); the file-type bits are added by the writer. */
  mode?: number;
  uid?: number;
  gid?: number;
  /** Seconds since the epoch; 0 keeps archives reproducible. */
  mtime?: number;
}

export type CpioEntry =
  | (CpioEntryBase & { type: "directory" })
  | (CpioEntryBase & { type: "file"; data: Uint8Array })
  | (CpioEntryBase & { type: "symlink"; target: string })
  | (CpioEntryBase & { type: "char-device"; major: number; minor: number });

const MAGIC = "070701";
const HEADER_SIZE = 110;
const TRAILER_NAME = "TRAILER!!!";
const MAX_FIELD = 0xffffffff;

const FILE_TYPE_BITS = {
  directory: 0o040000,
  file: 0o100000,
  symlink: 0o120000,
  "char-device": 0o020000,
} as const;

const DEFAULT_MODE = { directory: 0o755, file: 0o644, symlink: 0o777, "char-device": 0o600 } as const;

interface HeaderFields {
  ino: number;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  mtime: number;
  fileSize: number;
  rdevMajor: number;
  rdevMinor: number;
  nameSize: number;
}

/** The whole archive (entries then the trailer) as one buffer. */
export function writeCpio(entries: Iterable<CpioEntry>): Buffer {
  return Buffer.concat([...cpioChunks(entries)]);
}

/** The archive as a sequence of chunks, for streaming: `Readable.from(cpioChunks(entries))`. */
export function* cpioChunks(entries: Iterable<CpioEntry>): Generator<Buffer> {
  let ino = 1;
  for (const entry of entries) {
    yield* encodeEntry(entry, ino);
    ino += 1;
  }
  yield* encodeRecord(TRAILER_NAME, emptyFields(1), Buffer.alloc(0));
}

function* encodeEntry(entry: CpioEntry, ino: number): Generator<Buffer> {
  const name = normalisePath(entry.path);
  const permissions = entry.mode ?? DEFAULT_MODE[entry.type];
  if (!Number.isInteger(permissions) || permissions < 0 || permissions > 0o7777) {
    throw new RangeError(`cpio: invalid mode ${permissions} for ${name}`);
  }
  const data = entryData(entry);
  const fields: HeaderFields = {
    ...emptyFields(entry.type === "directory" ? 2 : 1),
    ino,
    mode: FILE_TYPE_BITS[entry.type] | permissions,
    uid: entry.uid ?? 0,
    gid: entry.gid ?? 0,
    mtime: entry.mtime ?? 0,
    fileSize: data.length,
    rdevMajor: entry.type === "char-device" ? entry.major : 0,
    rdevMinor: entry.type === "char-device" ? entry.minor : 0,
  };
  yield* encodeRecord(name, fields, data);
}

function entryData(entry: CpioEntry): Uint8Array {
  if (entry.type === "file") return entry.data;
  if (entry.type === "symlink") return Buffer.from(entry.target, "utf8");
  return Buffer.alloc(0);
}

function* encodeRecord(name: string, fields: HeaderFields, data: Uint8Array): Generator<Buffer> {
  const nameBytes = Buffer.from(`${name}\0`, "utf8");
  const header = encodeHeader({ ...fields, nameSize: nameBytes.length });
  yield header;
  yield nameBytes;
  yield padding(HEADER_SIZE + nameBytes.length);
  if (data.length > 0) {
    yield Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    yield padding(data.length);
  }
}

function encodeHeader(fields: HeaderFields): Buffer {
  const values = [
    fields.ino,
    fields.mode,
    fields.uid,
    fields.gid,
    fields.nlink,
    fields.mtime,
    fields.fileSize,
    0, // devmajor
    0, // devminor
    fields.rdevMajor,
    fields.rdevMinor,
    fields.nameSize,
    0, // check: unused by newc
  ];
  return Buffer.from(MAGIC + values.map(hexField).join(""), "ascii");
}

function hexField(value: number): string {
  if (!Number.isInteger(value) || value < 0 || value > MAX_FIELD) {
    throw new RangeError(`cpio: header value ${value} does not fit in 32 bits`);
  }
  return value.toString(16).padStart(8, "0");
}

/** Zero bytes that bring `length` up to the next multiple of 4. */
function padding(length: number): Buffer {
  return Buffer.alloc((4 - (length % 4)) % 4);
}

function emptyFields(nlink: number): HeaderFields {
  return {
    ino: 0,
    mode: 0,
    uid: 0,
    gid: 0,
    nlink,
    mtime: 0,
    fileSize: 0,
    rdevMajor: 0,
    rdevMinor: 0,
    nameSize: 0,
  };
}

function normalisePath(path: string): string {
  const name = path.replace(/^\/+/, "");
  if (name === "" || name === TRAILER_NAME || name.split("/").some((part) => part === ".." || part === "")) {
    throw new RangeError(`cpio: invalid path "${path}"`);
  }
  return name;
}
