import { FrameError } from "./frame.js";

/** One TLV field of a control message body: tag u8, length u32 BE, value. */
export interface Field {
  tag: number;
  value: Buffer;
}

export function encodeFields(fields: Field[]): Buffer {
  const parts: Buffer[] = [];
  for (const field of [...fields].sort((a, b) => a.tag - b.tag)) {
    const head = Buffer.alloc(5);
    head.writeUInt8(field.tag, 0);
    head.writeUInt32BE(field.value.length, 1);
    parts.push(head, field.value);
  }
  return Buffer.concat(parts);
}

export function decodeFields(body: Buffer): Field[] {
  const fields: Field[] = [];
  let offset = 0;
  while (offset < body.length) {
    if (body.length - offset < 5) throw new FrameError("BAD_MESSAGE", "truncated field header");
    const tag = body.readUInt8(offset);
    const length = body.readUInt32BE(offset + 1);
    offset += 5;
    if (length > body.length - offset)
      throw new FrameError("BAD_MESSAGE", `field 0x${tag.toString(16)} runs past the body`);
    fields.push({ tag, value: body.subarray(offset, offset + length) });
    offset += length;
  }
  return fields;
}

export const u32 = (tag: number, value: number): Field => {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(value >>> 0);
  return { tag, value: buffer };
};

export const i32 = (tag: number, value: number): Field => {
  const buffer = Buffer.alloc(4);
  buffer.writeInt32BE(value);
  return { tag, value: buffer };
};

export const u64 = (tag: number, value: number): Field => {
  const buffer = Buffer.alloc(8);
  buffer.writeBigUInt64BE(BigInt(value));
  return { tag, value: buffer };
};

export const str = (tag: number, value: string): Field => {
  if (value.includes("\0")) throw new FrameError("BAD_MESSAGE", "strings may not contain NUL");
  return { tag, value: Buffer.from(value, "utf8") };
};

/** Typed read access to decoded fields; rejects wrong integer widths. */
export class FieldReader {
  constructor(private readonly fields: Field[]) {}

  static of(body: Buffer): FieldReader {
    return new FieldReader(decodeFields(body));
  }

  private last(tag: number): Buffer | undefined {
    let found: Buffer | undefined;
    for (const field of this.fields) if (field.tag === tag) found = field.value;
    return found;
  }

  private int(tag: number, width: number): Buffer | undefined {
    const value = this.last(tag);
    if (value !== undefined && value.length !== width) {
      throw new FrameError("BAD_MESSAGE", `field 0x${tag.toString(16)} must be ${width} bytes`);
    }
    return value;
  }

  u32(tag: number): number | undefined {
    return this.int(tag, 4)?.readUInt32BE(0);
  }

  i32(tag: number): number | undefined {
    return this.int(tag, 4)?.readInt32BE(0);
  }

  u64(tag: number): number | undefined {
    const value = this.int(tag, 8);
    return value === undefined ? undefined : Number(value.readBigUInt64BE(0));
  }

  /** A u64 as it is, for values past 2^53 (nanosecond times). */
  bigU64(tag: number): bigint | undefined {
    return this.int(tag, 8)?.readBigUInt64BE(0);
  }

  /** A u64 that must fit a JavaScript number exactly (sizes, offsets). */
  safeU64(tag: number): number | undefined {
    const value = this.bigU64(tag);
    if (value === undefined) return undefined;
    if (value > BigInt(Number.MAX_SAFE_INTEGER))
      throw new FrameError("BAD_MESSAGE", `field 0x${tag.toString(16)} is out of range`);
    return Number(value);
  }

  raw(tag: number): Buffer | undefined {
    return this.last(tag);
  }

  /** Every value of a repeated field, in order. */
  all(tag: number): Buffer[] {
    return this.fields.filter((field) => field.tag === tag).map((field) => field.value);
  }

  str(tag: number): string | undefined {
    return this.last(tag)?.toString("utf8");
  }

  strs(tag: number): string[] {
    return this.fields.filter((field) => field.tag === tag).map((field) => field.value.toString("utf8"));
  }
}
