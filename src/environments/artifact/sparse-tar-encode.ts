/**
 * Writes a raw disk image as a one-member POSIX tar in the PAX 1.0 sparse format (the one GNU tar
 * reads with `tar -xSf`): only the image's non-zero 4 KiB blocks travel, so a 2 GiB root image
 * holding 250 MB of data is a 250 MB layer, and the result is byte-for-byte a function of the
 * image's content (same image, same layer digest).
 */
import { open } from "node:fs/promises";
import { Header } from "tar";
import { BLOCK, type SparseRegion } from "./sparse-format.js";

const SCAN_CHUNK = 4 * 1024 * 1024;
const ZERO_BLOCK = Buffer.alloc(BLOCK);
const ZERO_CHUNK = Buffer.alloc(SCAN_CHUNK);

/** The image's non-zero regions, 4 KiB-aligned, adjacent blocks merged. */
export async function dataRegions(imagePath: string): Promise<{ regions: SparseRegion[]; size: number }> {
  const handle = await open(imagePath, "r");
  try {
    const size = (await handle.stat()).size;
    const regions: SparseRegion[] = [];
    const buffer = Buffer.alloc(SCAN_CHUNK);
    let current: SparseRegion | null = null;
    for (let position = 0; position < size; position += SCAN_CHUNK) {
      const { bytesRead } = await handle.read(buffer, 0, SCAN_CHUNK, position);
      // Most of an image is holes: one memcmp clears a whole chunk.
      if (bytesRead === SCAN_CHUNK && buffer.equals(ZERO_CHUNK)) {
        current = null;
        continue;
      }
      for (let at = 0; at < bytesRead; at += BLOCK) {
        const end = Math.min(at + BLOCK, bytesRead);
        const block = buffer.subarray(at, end);
        const zero = end - at === BLOCK ? block.equals(ZERO_BLOCK) : block.every((byte) => byte === 0);
        if (zero) {
          current = null;
        } else if (current && current.offset + current.length === position + at) {
          current.length += end - at;
        } else {
          current = { offset: position + at, length: end - at };
          regions.push(current);
        }
      }
    }
    return { regions, size };
  } finally {
    await handle.close();
  }
}

/**
 * The PAX sparse tar of `imagePath`, stored as `memberName`, as a stream of chunks; `layout` is the
 * image's dataRegions when they are known already (encoding twice scans once).
 */
export async function* encodeSparseTar(
  imagePath: string,
  memberName: string,
  layout?: { regions: SparseRegion[]; size: number },
): AsyncGenerator<Buffer> {
  const { regions, size } = layout ?? (await dataRegions(imagePath));
  // GNU tar marks a trailing hole with an empty region at the end of the file.
  const map = [...regions];
  if (map.length === 0 || (map.at(-1) as SparseRegion).offset + (map.at(-1) as SparseRegion).length < size) {
    map.push({ offset: size, length: 0 });
  }
  const mapText = [String(map.length), ...map.flatMap((r) => [String(r.offset), String(r.length)])]
    .map((line) => `${line}\n`)
    .join("");
  const mapBytes = padded(Buffer.from(mapText, "ascii"));
  const dataBytes = regions.reduce((sum, r) => sum + r.length, 0);

  const pax = paxRecords({
    "GNU.sparse.major": "1",
    "GNU.sparse.minor": "0",
    "GNU.sparse.name": memberName,
    "GNU.sparse.realsize": String(size),
  });
  yield header(`PaxHeaders/${memberName}`, "ExtendedHeader", pax.length);
  yield padded(pax);
  yield header(`GNUSparseFile.0/${memberName}`, "File", mapBytes.length + dataBytes);
  yield mapBytes;

  const handle = await open(imagePath, "r");
  try {
    for (const region of regions) {
      for (let done = 0; done < region.length;) {
        const length = Math.min(SCAN_CHUNK, region.length - done);
        const buffer = Buffer.allocUnsafe(length);
        const { bytesRead } = await handle.read(buffer, 0, length, region.offset + done);
        if (bytesRead !== length) throw new Error(`${imagePath} changed while it was being packed`);
        yield buffer;
        done += length;
      }
    }
  } finally {
    await handle.close();
  }
  const tail = (BLOCK_512 - (dataBytes % BLOCK_512)) % BLOCK_512;
  yield Buffer.alloc(tail + 2 * BLOCK_512);
}

const BLOCK_512 = 512;

function header(path: string, type: "File" | "ExtendedHeader", size: number): Buffer {
  const block = Buffer.alloc(BLOCK_512);
  new Header({
    path,
    type,
    size,
    mode: 0o644,
    uid: 0,
    gid: 0,
    mtime: new Date(0),
    uname: "",
    gname: "",
  }).encode(block, 0);
  return block;
}

/** PAX records "LEN key=value\n", where LEN counts the whole record, itself included. */
function paxRecords(records: Record<string, string>): Buffer {
  const lines = Object.entries(records).map(([key, value]) => {
    const body = ` ${key}=${value}\n`;
    let length = body.length + 1;
    while (String(length).length + body.length !== length) length = String(length).length + body.length;
    return `${length}${body}`;
  });
  return Buffer.from(lines.join(""), "utf8");
}

function padded(bytes: Buffer): Buffer {
  const tail = (BLOCK_512 - (bytes.length % BLOCK_512)) % BLOCK_512;
  return tail === 0 ? bytes : Buffer.concat([bytes, Buffer.alloc(tail)]);
}
