/** Keeps at most `limit` bytes of a stream while counting all of it, so a flood never fills memory. */
export class OutputCapture {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  total = 0;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    this.total += chunk.length;
    if (this.kept >= this.limit) return;
    const take = chunk.subarray(0, this.limit - this.kept);
    this.chunks.push(Buffer.from(take));
    this.kept += take.length;
  }

  get truncated(): boolean {
    return this.total > this.kept;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString("utf8");
  }
}
