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

export function decodeControl<T>(body: Buffer): { header: T; data: Buffer } {
  if (body.length < 4) throw new PyroError("PROTOCOL_ERROR", "short control message");
  const length = body.readUInt32BE(0);
  if (length > body.length - 4) throw new PyroError("PROTOCOL_ERROR", "control header runs past the message");
  return {
    header: JSON.parse(body.subarray(4, 4 + length).toString("utf8")) as T,
    data: body.subarray(4 + length),
  };
}
