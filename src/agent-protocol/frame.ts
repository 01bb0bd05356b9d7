import { HEADER_SIZE, MAX_BODY, isKnownType, type MessageTypeCode } from "./constants.js";

export interface Frame {
  stream: number;
  type: MessageTypeCode;
  flags: number;
  body: Buffer;
}

/** A frame that violates docs/protocol.md; the connection cannot continue after it. */
export class FrameError extends Error {
  constructor(
    readonly code: "BAD_FRAME" | "BAD_MESSAGE",
    message: string,
  ) {
    super(message);
    this.name = "FrameError";
  }
}

export function encodeFrame(frame: Frame): Buffer {
  if (frame.body.length > MAX_BODY)
    throw new FrameError("BAD_FRAME", `frame body of ${frame.body.length} bytes exceeds ${MAX_BODY}`);
  const header = Buffer.alloc(HEADER_SIZE);
  header.writeUInt32BE(frame.body.length, 0);
  header.writeUInt32BE(frame.stream >>> 0, 4);
  header.writeUInt8(frame.type, 8);
  header.writeUInt8(frame.flags & 0xff, 9);
  return Buffer.concat([header, frame.body]);
}

/** Validates one header; returns the body length it announces. */
export function parseHeader(header: Buffer): {
  length: number;
  stream: number;
  type: MessageTypeCode;
  flags: number;
} {
  const length = header.readUInt32BE(0);
  const stream = header.readUInt32BE(4);
  const type = header.readUInt8(8);
  const flags = header.readUInt8(9);
  const reserved = header.readUInt16BE(10);
  if (length > MAX_BODY)
    throw new FrameError("BAD_FRAME", `frame body of ${length} bytes exceeds ${MAX_BODY}`);
  if (reserved !== 0) throw new FrameError("BAD_FRAME", "reserved header bytes are not zero");
  if (!isKnownType(type)) throw new FrameError("BAD_FRAME", `unknown frame type 0x${type.toString(16)}`);
  return { length, stream, type, flags };
}

/**
 * Incremental decoder for a byte stream. Holds at most one partial frame (bounded by MAX_BODY),
 * so a hostile peer cannot make it buffer without limit, and copies each byte once however the
 * stream is split (a peer trickling one byte at a time costs linear work, not quadratic).
 */
export class FrameDecoder {
  private readonly headerBytes = Buffer.alloc(HEADER_SIZE);
  private headerFill = 0;
  private header: ReturnType<typeof parseHeader> | null = null;
  private body: Buffer = Buffer.alloc(0);
  private bodyFill = 0;

  /** Feeds bytes; returns the complete frames they finish. Throws FrameError on a bad frame. */
  push(chunk: Buffer): Frame[] {
    const frames: Frame[] = [];
    let offset = 0;
    for (;;) {
      if (this.header === null) {
        const taken = chunk.copy(
          this.headerBytes,
          this.headerFill,
          offset,
          offset + HEADER_SIZE - this.headerFill,
        );
        this.headerFill += taken;
        offset += taken;
        if (this.headerFill < HEADER_SIZE) break;
        this.headerFill = 0;
        this.header = parseHeader(this.headerBytes);
        this.body = Buffer.allocUnsafe(this.header.length);
        this.bodyFill = 0;
      }
      const taken = chunk.copy(this.body, this.bodyFill, offset, offset + this.header.length - this.bodyFill);
      this.bodyFill += taken;
      offset += taken;
      if (this.bodyFill < this.header.length) break;
      const { stream, type, flags } = this.header;
      frames.push({ stream, type, flags, body: this.body });
      this.header = null;
    }
    return frames;
  }
}

/** Decodes exactly one frame from a buffer (used by tests and golden vectors). */
export function decodeFrame(bytes: Buffer): Frame {
  if (bytes.length < HEADER_SIZE) throw new FrameError("BAD_FRAME", "short frame");
  const header = parseHeader(bytes.subarray(0, HEADER_SIZE));
  if (bytes.length !== HEADER_SIZE + header.length)
    throw new FrameError("BAD_FRAME", "frame length mismatch");
  return {
    stream: header.stream,
    type: header.type,
    flags: header.flags,
    body: Buffer.from(bytes.subarray(HEADER_SIZE)),
  };
}
