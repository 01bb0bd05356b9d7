/**
 * Reads the sparse root image layer (sparse-tar-encode.ts) as it streams in and writes the image:
 * data regions at their offsets, holes left unwritten, and the raw image's sha256 computed on the
 * way (holes hash as zeros, on a worker thread: image-hasher.ts). Everything in the layer is bounded
 * and checked; the layer's own digest is checked by whoever feeds it, before the image is used.
 */
import { open, type FileHandle } from "node:fs/promises";
import { Header } from "tar";
import { PyroError } from "../../errors/index.js";
import { ImageHasher } from "./image-hasher.js";
import { ROOTFS_MEMBER, type SparseRegion } from "./sparse-format.js";

const TAR_BLOCK = 512;
const MAX_PAX_BYTES = 64 * 1024;
const MAX_REGIONS = 1 << 21;
const MAX_IMAGE_BYTES = 64 * 1024 ** 3;
/** Data is gathered into writes of up to this size (one pwrite, one hand-over to the hasher). */
const WRITE_BYTES = 4 * 1024 * 1024;

type State =
  | { kind: "pax-header" }
  | { kind: "pax-body"; size: number }
  | { kind: "file-header" }
  | { kind: "map"; memberBytes: number }
  | { kind: "data"; regionIndex: number; regionDone: number; memberLeft: number; padding: number }
  | { kind: "trailer" };

export interface DecodedImage {
  size: number;
  sha256: string;
}

export class SparseTarDecoder {
  private pending: Buffer = Buffer.alloc(0);
  private state: State = { kind: "pax-header" };
  private realSize = -1;
  private regions: SparseRegion[] = [];
  private readonly hasher = new ImageHasher(WRITE_BYTES);
  /** Contiguous data not yet written: `outLength` bytes of `out` belong at `outPosition`. */
  private out: Buffer = this.hasher.buffer();
  private outPosition = 0;
  private outLength = 0;

  private constructor(private readonly handle: FileHandle) {}

  /** A decoder writing the image to `imagePath` (created; must not exist). */
  static async create(imagePath: string): Promise<SparseTarDecoder> {
    return new SparseTarDecoder(await open(imagePath, "wx", 0o644));
  }

  async write(chunk: Buffer): Promise<void> {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    for (;;) {
      const progressed = await this.step();
      if (!progressed) return;
    }
  }

  /** Closes the image; throws unless the layer was complete. */
  async finish(): Promise<DecodedImage> {
    try {
      if (this.state.kind !== "trailer") throw bad("the layer ends before the image is complete");
      await this.flush();
      await this.handle.truncate(this.realSize);
      return { size: this.realSize, sha256: await this.hasher.digest(this.realSize) };
    } finally {
      await this.hasher.close();
      await this.handle.close();
    }
  }

  /** Closes the file after a failure (the caller removes it). */
  async abort(): Promise<void> {
    await this.hasher.close().catch(() => undefined);
    await this.handle.close().catch(() => undefined);
  }

  private take(length: number): Buffer | null {
    if (this.pending.length < length) return null;
    const head = this.pending.subarray(0, length);
    this.pending = this.pending.subarray(length);
    return head;
  }

  private async step(): Promise<boolean> {
    const state = this.state;
    switch (state.kind) {
      case "pax-header": {
        const block = this.take(TAR_BLOCK);
        if (!block) return false;
        const header = parseHeader(block);
        if (header.type !== "ExtendedHeader" || header.size > MAX_PAX_BYTES) {
          throw bad("the layer does not start with a PAX sparse header");
        }
        this.state = { kind: "pax-body", size: header.size };
        return true;
      }
      case "pax-body": {
        const body = this.take(roundUp(state.size));
        if (!body) return false;
        this.realSize = sparseRealSize(parsePax(body.subarray(0, state.size)));
        this.state = { kind: "file-header" };
        return true;
      }
      case "file-header": {
        const block = this.take(TAR_BLOCK);
        if (!block) return false;
        const header = parseHeader(block);
        if (header.type !== "File") throw bad("the sparse member is not a regular file");
        this.state = { kind: "map", memberBytes: header.size };
        return true;
      }
      case "map":
        return this.readMap(state.memberBytes);
      case "data":
        return this.writeData(state);
      case "trailer":
        // End-of-archive blocks must be zeros; nothing may follow the image.
        if (this.pending.some((byte) => byte !== 0)) throw bad("data after the image");
        this.pending = Buffer.alloc(0);
        return false;
    }
  }

  /** The map: count, then offset and length per region, one decimal a line, padded to 512. */
  private readMap(memberBytes: number): boolean {
    const text = this.pending.toString(
      "latin1",
      0,
      Math.min(this.pending.length, 48 * (2 * MAX_REGIONS + 1)),
    );
    const lines = text.split("\n");
    const count = parseDecimal(lines[0], lines.length > 1);
    if (count === null) return false;
    if (count < 1 || count > MAX_REGIONS) throw bad(`the sparse map has ${count} regions`);
    if (lines.length < 2 * count + 2) {
      if (this.pending.length > 48 * (2 * count + 1)) throw bad("the sparse map is malformed");
      return false;
    }
    const numbers = lines.slice(1, 2 * count + 1).map((line) => parseDecimal(line, true));
    const regions: SparseRegion[] = [];
    let end = 0;
    for (let i = 0; i < count; i += 1) {
      const offset = numbers[2 * i];
      const length = numbers[2 * i + 1];
      if (offset === null || offset === undefined || length === null || length === undefined) {
        throw bad("the sparse map is malformed");
      }
      if (offset < end || offset + length > this.realSize)
        throw bad("the sparse map's regions overlap or leave the image");
      end = offset + length;
      if (length > 0) regions.push({ offset, length });
    }
    const mapLength = lines.slice(0, 2 * count + 1).join("\n").length + 1;
    const mapBlock = roundUp(mapLength);
    const dataBytes = regions.reduce((sum, r) => sum + r.length, 0);
    if (mapBlock + dataBytes !== memberBytes) throw bad("the sparse member's size does not match its map");
    if (this.pending.length < mapBlock) return false;
    this.pending = this.pending.subarray(mapBlock);
    this.regions = regions;
    this.hasher.setMap(regions, this.realSize);
    this.state = {
      kind: "data",
      regionIndex: 0,
      regionDone: 0,
      memberLeft: dataBytes,
      padding: roundUp(dataBytes) - dataBytes,
    };
    return true;
  }

  private async writeData(state: Extract<State, { kind: "data" }>): Promise<boolean> {
    if (state.memberLeft === 0) {
      const pad = this.take(state.padding);
      if (!pad) return false;
      this.state = { kind: "trailer" };
      return true;
    }
    if (this.pending.length === 0) return false;
    const region = this.regions[state.regionIndex] as SparseRegion;
    const length = Math.min(region.length - state.regionDone, this.pending.length);
    const position = region.offset + state.regionDone;
    if (this.outLength > 0 && this.outPosition + this.outLength !== position) await this.flush();
    if (this.outLength === 0) this.outPosition = position;
    const room = Math.min(length, WRITE_BYTES - this.outLength);
    (this.take(room) as Buffer).copy(this.out, this.outLength);
    this.outLength += room;
    if (this.outLength === WRITE_BYTES) await this.flush();
    state.regionDone += room;
    state.memberLeft -= room;
    if (state.regionDone === region.length) {
      state.regionIndex += 1;
      state.regionDone = 0;
    }
    return true;
  }

  /** Writes the gathered data at its offset and hands the buffer over to the hasher. */
  private async flush(): Promise<void> {
    if (this.outLength === 0) return;
    const { bytesWritten } = await this.handle.write(this.out, 0, this.outLength, this.outPosition);
    if (bytesWritten !== this.outLength) throw new Error("short write to the root image");
    await this.hasher.update(this.out, this.outLength, this.outPosition);
    this.out = this.hasher.buffer();
    this.outLength = 0;
  }
}

function parseHeader(block: Buffer): { type: Header["type"]; size: number } {
  const header = new Header(block);
  const size = header.size;
  if (!header.cksumValid || size === undefined || size < 0) throw bad("a tar header is damaged");
  return { type: header.type, size };
}

function parsePax(body: Buffer): Map<string, string> {
  const records = new Map<string, string>();
  let at = 0;
  while (at < body.length) {
    const space = body.indexOf(0x20, at);
    const length = space > at ? Number(body.toString("ascii", at, space)) : NaN;
    if (!Number.isInteger(length) || length <= 0 || at + length > body.length)
      throw bad("a PAX record is malformed");
    const record = body.toString("utf8", space + 1, at + length - 1);
    const equals = record.indexOf("=");
    if (equals < 1) throw bad("a PAX record is malformed");
    records.set(record.slice(0, equals), record.slice(equals + 1));
    at += length;
  }
  return records;
}

function sparseRealSize(records: Map<string, string>): number {
  if (records.get("GNU.sparse.major") !== "1" || records.get("GNU.sparse.minor") !== "0") {
    throw bad("the layer is not in the PAX 1.0 sparse format");
  }
  if (records.get("GNU.sparse.name") !== ROOTFS_MEMBER) throw bad(`the layer does not hold ${ROOTFS_MEMBER}`);
  const size = parseDecimal(records.get("GNU.sparse.realsize"), true);
  if (size === null || size <= 0 || size > MAX_IMAGE_BYTES) throw bad("the image size is out of range");
  return size;
}

/** A decimal without sign or leading zeros; null while the line may still be incomplete. */
function parseDecimal(line: string | undefined, complete: boolean): number | null {
  if (line === undefined || !complete) return null;
  if (!/^(0|[1-9][0-9]{0,15})$/.test(line)) throw bad("a number in the layer is malformed");
  return Number(line);
}

function roundUp(length: number): number {
  return Math.ceil(length / TAR_BLOCK) * TAR_BLOCK;
}

function bad(what: string): PyroError {
  return new PyroError("REGISTRY_ERROR", `The root image layer is not usable: ${what}.`, {
    hint: "Push the environment again with `pyro env push`; nothing was installed.",
  });
}
