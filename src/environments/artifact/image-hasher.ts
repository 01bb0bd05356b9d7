/**
 * The sha256 of a sparse image being written, computed on a worker thread: the data regions are
 * handed over in order (transferred, not copied) and the holes between them hash as zeros there.
 * Hashing a 2 GiB image costs about a second of CPU, mostly zeros; on its own thread it overlaps
 * the download instead of following it.
 */
import { Worker } from "node:worker_threads";

/** Data handed over but not yet hashed, at most: beyond it, `update` waits for the worker. */
const MAX_IN_FLIGHT_BYTES = 64 * 1024 * 1024;

/*
 * Inline (eval) so the same code runs from dist/ and from the TypeScript sources under test.
 * Messages in: { map, size } the data regions as [offset, length, ...] and the image's size, first;
 * { position, bytes } data at an offset (in order); { end } no more data.
 * Messages out: { hashed } a data buffer done (handed back for reuse), { digest } the hex sha256.
 * Between messages the worker hashes the holes before the next region whose data has not come yet,
 * so the holes are hashed while the data is still downloading.
 */
const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const ZERO_STEP = 4 * 1024 * 1024;
const zeros = Buffer.alloc(ZERO_STEP);
const hash = createHash("sha256");
let map = new Float64Array(0);
let size = 0;
let region = 0;
let hashedTo = 0;
let scheduled = false;
function zerosTo(position, limit) {
  let budget = limit;
  while (hashedTo < position && budget > 0) {
    const length = Math.min(zeros.length, position - hashedTo);
    hash.update(length === zeros.length ? zeros : zeros.subarray(0, length));
    hashedTo += length;
    budget -= length;
  }
}
/** Where the hole hashedTo is in ends (hashedTo itself when it is in a region still to come). */
function holeEnd() {
  while (region < map.length && map[region] + map[region + 1] <= hashedTo) region += 2;
  return region < map.length ? Math.max(hashedTo, map[region]) : size;
}
function hashHoles() {
  scheduled = false;
  zerosTo(holeEnd(), ZERO_STEP);
  if (hashedTo < holeEnd()) schedule();
}
function schedule() {
  if (!scheduled) {
    scheduled = true;
    setImmediate(hashHoles);
  }
}
parentPort.on("message", (message) => {
  if (message.map !== undefined) {
    map = new Float64Array(message.map);
    size = message.size;
  } else if (message.end !== undefined) {
    zerosTo(message.end, Infinity);
    parentPort.postMessage({ digest: hash.digest("hex") });
    return;
  } else {
    zerosTo(message.position, Infinity);
    hash.update(new Uint8Array(message.bytes, 0, message.length));
    hashedTo += message.length;
    parentPort.postMessage({ hashed: message.length, bytes: message.bytes }, [message.bytes]);
  }
  schedule();
});
`;

export class ImageHasher {
  private readonly worker = new Worker(WORKER_SOURCE, { eval: true });
  private inFlight = 0;
  private failure: Error | null = null;
  private waiting: Array<() => void> = [];
  private digestWaiter: ((hex: string) => void) | null = null;
  private position = 0;
  /** Buffers the worker handed back, for `buffer()` to reuse. */
  private spare: ArrayBuffer[] = [];

  constructor(private readonly bufferBytes: number) {
    this.worker.on("message", (message: { hashed?: number; bytes?: unknown; digest?: string }) => {
      if (typeof message.hashed === "number") {
        this.inFlight -= message.hashed;
        if (message.bytes instanceof ArrayBuffer && message.bytes.byteLength === this.bufferBytes)
          this.spare.push(message.bytes);
        this.wake();
      } else if (typeof message.digest === "string") this.digestWaiter?.(message.digest);
    });
    this.worker.on("error", (error) => {
      this.failure = error;
      this.wake();
    });
  }

  /** The image's data regions (checked: in order, inside the image) and its size, before any data. */
  setMap(regions: ReadonlyArray<{ offset: number; length: number }>, size: number): void {
    const map = new Float64Array(regions.length * 2);
    regions.forEach((region, i) => {
      map[2 * i] = region.offset;
      map[2 * i + 1] = region.length;
    });
    this.worker.postMessage({ map: map.buffer, size }, [map.buffer]);
  }

  /** A buffer of `bufferBytes` to fill and hand to `update` (one the worker handed back, when there is one). */
  buffer(): Buffer {
    const spare = this.spare.pop();
    return spare ? Buffer.from(spare) : Buffer.from(new ArrayBuffer(this.bufferBytes));
  }

  /**
   * Hashes the first `length` bytes of `bytes` (from `buffer()`) as the image's data at `position`
   * (never before the end of the previous update). Takes the buffer over: it must not be used after.
   */
  async update(bytes: Buffer, length: number, position: number): Promise<void> {
    if (position < this.position) throw new Error("image data handed over out of order");
    if (bytes.byteOffset !== 0 || bytes.byteLength !== bytes.buffer.byteLength || length > bytes.length)
      throw new Error("image data must come in a buffer of its own");
    while (this.inFlight >= MAX_IN_FLIGHT_BYTES && this.failure === null) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    if (this.failure) throw this.failure;
    this.inFlight += length;
    this.position = position + length;
    const owned = bytes.buffer as ArrayBuffer;
    this.worker.postMessage({ position, length, bytes: owned }, [owned]);
  }

  /** The hex sha256 of the image of `size` bytes (zeros after the last data); ends the worker. */
  async digest(size: number): Promise<string> {
    if (size < this.position) throw new Error("image data beyond its size");
    try {
      return await new Promise<string>((resolve, reject) => {
        if (this.failure) return reject(this.failure);
        this.digestWaiter = resolve;
        this.worker.once("error", reject);
        this.worker.postMessage({ end: size });
      });
    } finally {
      await this.close();
    }
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const resolve of waiting) resolve();
  }
}
