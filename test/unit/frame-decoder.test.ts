import { describe, expect, it } from "vitest";
import { MAX_BODY } from "../../src/agent-protocol/constants.js";
import { FrameDecoder, encodeFrame } from "../../src/agent-protocol/frame.js";
import { encode } from "../../src/agent-protocol/messages.js";

describe("FrameDecoder against a peer that splits its stream", () => {
  it("decodes frames fed one byte at a time, in linear time", () => {
    const frames = Array.from({ length: 8 }, (_, i) =>
      encode.stdout(i + 1, Buffer.alloc(MAX_BODY, 0x61 + i)),
    );
    const bytes = Buffer.concat(frames.map(encodeFrame));
    const decoder = new FrameDecoder();
    const decoded = [];
    const started = Date.now();
    for (let offset = 0; offset < bytes.length; offset++) {
      decoded.push(...decoder.push(bytes.subarray(offset, offset + 1)));
    }
    // Re-assembling the partial frame at every byte (quadratic) takes many seconds here.
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(decoded.map((frame) => [frame.stream, frame.body.length, frame.body[0]])).toEqual(
      frames.map((frame) => [frame.stream, MAX_BODY, frame.body[0]]),
    );
  });

  it("decodes many frames from one chunk, empty bodies included, and keeps a partial one", () => {
    const empty = encodeFrame(encode.stdout(3, Buffer.alloc(0)));
    const whole = encodeFrame(encode.stdout(4, Buffer.from("tail")));
    const decoder = new FrameDecoder();
    const first = decoder.push(Buffer.concat([empty, empty, empty, whole.subarray(0, 14)]));
    expect(first.map((frame) => frame.body.length)).toEqual([0, 0, 0]);
    const second = decoder.push(whole.subarray(14));
    expect(second.map((frame) => frame.body.toString())).toEqual(["tail"]);
  });
});
