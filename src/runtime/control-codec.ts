import { MAX_BODY } from "../agent-protocol/constants.js";
import { PyroError } from "../errors/index.js";

/** How many raw bytes fit in one control frame after this header (negative: the header alone is too big). */
export function controlDataRoom(header: unknown): number {
  return MAX_BODY - 4 - Buffer.byteLength(JSON.stringify(header));
}

/** A control body: u32 length of a JSON header, the header, then raw bytes (terminal output, input). */
export function encodeControl(header: unknown, data: Buffer = Buffer.alloc(0)): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(4);
  length.writeUInt32BE(json.length);
  const body = Buffer.concat([length, json, data]);
  if (body.length > MAX_BODY)
    throw new PyroError("INTERNAL", `control message of ${body.length} bytes is too large`);
  return body;
}

/**
 * Splits a control body into its JSON header (still unknown: the receiver parses it with its
 * schema) and its raw bytes. Throws a message that says what was wrong with the framing.
 */
export function decodeControl(body: Buffer): { header: unknown; data: Buffer } {
  if (body.length < 4) throw new ControlFramingError("short control message");
  const length = body.readUInt32BE(0);
  if (length > body.length - 4) throw new ControlFramingError("control header runs past the message");
  let header: unknown;
  try {
    header = JSON.parse(body.subarray(4, 4 + length).toString("utf8"));
  } catch {
    throw new ControlFramingError("control header is not JSON");
  }
  return { header, data: body.subarray(4 + length) };
}

export class ControlFramingError extends Error {
  override readonly name = "ControlFramingError";
}
