import { PyroError } from "../../errors/index.js";

/**
 * Splits a byte stream of NUL-terminated fields (find -printf '…\0') into strings, whatever the
 * chunk boundaries. The stream comes from the guest, so one field may not grow past `maxFieldBytes`.
 */
export class NulFieldSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly maxFieldBytes: number) {}

  /** Returns the fields completed by this chunk. */
  push(chunk: Buffer): string[] {
    const fields: string[] = [];
    let start = 0;
    for (let end = chunk.indexOf(0, start); end !== -1; end = chunk.indexOf(0, start)) {
      this.keep(chunk.subarray(start, end));
      fields.push(Buffer.concat(this.pending).toString("utf8"));
      this.pending = [];
      this.pendingBytes = 0;
      start = end + 1;
    }
    this.keep(chunk.subarray(start));
    return fields;
  }

  /** True when the stream ended in the middle of a field. */
  get hasPartialField(): boolean {
    return this.pendingBytes > 0;
  }

  private keep(piece: Buffer): void {
    if (piece.length === 0) return;
    this.pendingBytes += piece.length;
    if (this.pendingBytes > this.maxFieldBytes) {
      throw new PyroError(
        "EXEC_FAILED",
        `the guest sent a listing field longer than ${this.maxFieldBytes} bytes`,
      );
    }
    this.pending.push(Buffer.from(piece));
  }
}
