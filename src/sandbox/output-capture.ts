/**
 * Keeps at most `limit` bytes of a stream while counting all of it, so a flood never fills memory.
 * The kept bytes live in one buffer, not one object per chunk: a flood of tiny or empty chunks costs
 * no more memory than the bytes it carries.
 */
export class OutputCapture {
  private data = Buffer.alloc(0);
  private kept = 0;
  total = 0;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    this.total += chunk.length;
    const take = Math.min(chunk.length, this.limit - this.kept);
    if (take <= 0) return;
    if (this.kept + take > this.data.length) {
      const grown = Buffer.alloc(
        Math.min(this.limit, Math.max(this.kept + take, 2 * this.data.length, 4096)),
      );
      this.data.copy(grown, 0, 0, this.kept);
      this.data = grown;
    }
    chunk.copy(this.data, this.kept, 0, take);
    this.kept += take;
  }

  get truncated(): boolean {
    return this.total > this.kept;
  }

  text(): string {
    return this.data.toString("utf8", 0, this.kept);
  }
}
