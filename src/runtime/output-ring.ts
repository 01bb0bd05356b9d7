/**
 * The last `capacity` bytes of a process's output, addressed by absolute offsets that never
 * change: a cursor stays valid until the bytes it points at are dropped, and a reader is told
 * how many it missed. The bytes live in one circular buffer, so memory is bounded by `capacity`
 * however many chunks (empty ones included) the guest splits its output into.
 */
export class OutputRing {
  private store = Buffer.alloc(0);
  /** Absolute offset of the first byte still kept. */
  start = 0;
  /** Absolute offset just past the last byte written. */
  end = 0;

  constructor(private readonly capacity: number) {}

  /** A ring holding `bytes` at absolute offsets [start, start + bytes.length) (one carried across a pause). */
  static restored(capacity: number, start: number, bytes: Buffer): OutputRing {
    const ring = new OutputRing(capacity);
    ring.start = ring.end = start;
    ring.append(bytes);
    return ring;
  }

  /** Every byte still kept, from `start` to `end`. */
  kept(): Buffer {
    return this.read(this.start, this.end - this.start).data;
  }

  append(data: Buffer): void {
    if (data.length === 0) return;
    if (this.store.length === 0) this.store = Buffer.alloc(this.capacity);
    // Only the last `capacity` bytes of a large chunk can survive it.
    const bytes = data.subarray(Math.max(0, data.length - this.capacity));
    this.end += data.length - bytes.length;
    const copied = bytes.copy(this.store, this.end % this.capacity);
    bytes.copy(this.store, 0, copied);
    this.end += bytes.length;
    this.start = Math.max(this.start, this.end - this.capacity);
  }

  /** Up to `max` bytes from `cursor` (clamped into what is kept). */
  read(cursor: number, max: number): { from: number; data: Buffer; next: number; dropped: number } {
    const from = Math.min(Math.max(cursor, this.start), this.end);
    const dropped = cursor < this.start ? this.start - cursor : 0;
    const length = Math.max(0, Math.min(max, this.end - from));
    const data = Buffer.alloc(length);
    if (length > 0) {
      const at = from % this.capacity;
      const first = this.store.copy(data, 0, at, Math.min(this.capacity, at + length));
      this.store.copy(data, first, 0, length - first);
    }
    return { from, data, next: from + data.length, dropped };
  }
}
