/**
 * The last `capacity` bytes of a process's output, addressed by absolute offsets that never
 * change: a cursor stays valid until the bytes it points at are dropped, and a reader is told
 * how many it missed.
 */
export class OutputRing {
  private chunks: Buffer[] = [];
  private kept = 0;
  /** Absolute offset of the first byte still kept. */
  start = 0;
  /** Absolute offset just past the last byte written. */
  end = 0;

  constructor(private readonly capacity: number) {}

  append(data: Buffer): void {
    this.chunks.push(data);
    this.kept += data.length;
    this.end += data.length;
    while (this.kept > this.capacity && this.chunks.length > 0) {
      const first = this.chunks[0] as Buffer;
      const excess = this.kept - this.capacity;
      if (first.length <= excess) {
        this.chunks.shift();
        this.kept -= first.length;
        this.start += first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.kept -= excess;
        this.start += excess;
      }
    }
  }

  /** Up to `max` bytes from `cursor` (clamped into what is kept). */
  read(cursor: number, max: number): { from: number; data: Buffer; next: number; dropped: number } {
    const from = Math.min(Math.max(cursor, this.start), this.end);
    const dropped = cursor < this.start ? this.start - cursor : 0;
    const data = Buffer.concat(this.chunks).subarray(from - this.start, from - this.start + max);
    return { from, data, next: from + data.length, dropped };
  }
}
