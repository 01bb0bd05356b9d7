import { Duplex, PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { AgentClient } from "../../src/agent-protocol/client.js";
import { MessageType } from "../../src/agent-protocol/constants.js";
import { FrameDecoder, encodeFrame } from "../../src/agent-protocol/frame.js";
import { encode } from "../../src/agent-protocol/messages.js";

/** An agent on the other end of an in-memory byte stream: it answers HELLO, then EXEC with `answer`. */
function fakeAgent(answer: (stream: number) => Buffer[]): Duplex {
  const toAgent = new PassThrough();
  const fromAgent = new PassThrough();
  const decoder = new FrameDecoder();
  toAgent.on("data", (chunk: Buffer) => {
    for (const frame of decoder.push(chunk)) {
      if (frame.type === MessageType.HELLO) {
        fromAgent.write(
          encodeFrame(
            encode.helloAck({
              version: 1,
              agentVersion: "t",
              kernelRelease: "t",
              maxBody: 65536,
              mode: "host",
            }),
          ),
        );
      } else if (frame.type === MessageType.EXEC) {
        for (const bytes of answer(frame.stream)) fromAgent.write(bytes);
      }
    }
  });
  return Duplex.from({ readable: fromAgent, writable: toAgent });
}

describe("AgentClient against a flood of empty output frames", () => {
  it("hands no empty chunk to the command's handlers", async () => {
    const empty = (stream: number): Buffer => encodeFrame(encode.stdout(stream, Buffer.alloc(0)));
    const client = await AgentClient.connect(
      fakeAgent((stream) => [
        encodeFrame(encode.started(stream, 7)),
        Buffer.concat(Array.from({ length: 50_000 }, () => empty(stream))),
        encodeFrame(encode.stdout(stream, Buffer.from("real"))),
        encodeFrame(encode.stderr(stream, Buffer.alloc(0))),
        encodeFrame(encode.exit(stream, { exitCode: 0, signal: 0, timedOut: false, durationMs: 1 })),
      ]),
      { client: "test" },
    );
    const chunks: Buffer[] = [];
    const { result } = client.exec(
      { args: ["true"] },
      { onStdout: (c) => void chunks.push(c), onStderr: (c) => void chunks.push(c) },
    );
    expect((await result).exitCode).toBe(0);
    expect(chunks.map((chunk) => chunk.toString())).toEqual(["real"]);
    client.close();
  });
});
