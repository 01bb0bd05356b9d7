import { Duplex, PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { AgentClient } from "../../src/agent-protocol/client.js";
import { MessageType } from "../../src/agent-protocol/constants.js";
import { Tag } from "../../src/agent-protocol/constants.js";
import { encodeFields, u32 } from "../../src/agent-protocol/fields.js";
import { FileOps, FileOpError } from "../../src/agent-protocol/file-ops.js";
import { FrameDecoder, encodeFrame, type Frame } from "../../src/agent-protocol/frame.js";
import { encodeFs, type FsEntry } from "../../src/agent-protocol/fs-messages.js";
import { encode } from "../../src/agent-protocol/messages.js";

/** An agent on an in-memory stream: answers HELLO, then every file request with `answer`. */
async function clientOf(answer: (request: Frame) => Buffer[]): Promise<FileOps> {
  const toAgent = new PassThrough();
  const fromAgent = new PassThrough();
  const decoder = new FrameDecoder();
  toAgent.on("data", (chunk: Buffer) => {
    for (const frame of decoder.push(chunk)) {
      if (frame.type === MessageType.HELLO) {
        const ack = {
          version: 1,
          agentVersion: "t",
          kernelRelease: "t",
          maxBody: 65536,
          mode: "host",
        } as const;
        fromAgent.write(encodeFrame(encode.helloAck(ack)));
      } else if (frame.type !== MessageType.FS_DATA) {
        for (const bytes of answer(frame)) fromAgent.write(bytes);
      }
    }
  });
  const client = await AgentClient.connect(Duplex.from({ readable: fromAgent, writable: toAgent }), {
    client: "test",
  });
  return new FileOps(client);
}

const entry = (name: string): FsEntry => ({
  name: Buffer.from(name),
  type: "file",
  mode: 0o644,
  size: 1,
  mtimeNs: 0n,
  uid: 0,
  gid: 0,
});
const done = (stream: number, fields = {}): Buffer => encodeFrame(encodeFs.done(stream, fields));

describe("file operations against an untrusted agent", () => {
  it("pipelines requests and matches each reply to its own", async () => {
    const files = await clientOf((request) => [
      encodeFrame(encodeFs.data(request.stream, Buffer.from(`s${request.stream}`))),
      done(request.stream, { size: 2 }),
    ]);
    const reads = await Promise.all([1, 2, 3].map(() => files.read("x", 0, 10)));
    expect(reads.map((read) => read.data.toString())).toEqual(["s1", "s2", "s3"]);
  });

  it("fails the connection when a listing brings more entries than asked for", async () => {
    const files = await clientOf((request) => [
      encodeFrame(encodeFs.entries(request.stream, [entry("a"), entry("b"), entry("c")])),
      done(request.stream, { count: 3 }),
    ]);
    await expect(files.list(".", { maxEntries: 2 })).rejects.toMatchObject({ code: "PROTOCOL_ERROR" });
    // The connection stays failed: nothing more is read from that agent.
    await expect(files.list(".", { maxEntries: 5 })).rejects.toMatchObject({ code: "PROTOCOL_ERROR" });
  });

  it("fails the connection when a read brings more bytes than asked for", async () => {
    const files = await clientOf((request) => [
      encodeFrame(encodeFs.data(request.stream, Buffer.alloc(11))),
      done(request.stream, { size: 11 }),
    ]);
    await expect(files.read("x", 0, 10)).rejects.toMatchObject({ code: "PROTOCOL_ERROR" });
  });

  it("rejects malformed entries, an unknown type and frames that do not belong", async () => {
    const badType = encodeFields([{ tag: Tag.E_NAME, value: Buffer.from("n") }, u32(Tag.E_TYPE, 9)]);
    for (const reply of [
      (stream: number): Buffer =>
        encodeFrame({
          type: MessageType.FS_ENTRIES,
          stream,
          flags: 0,
          body: encodeFields([{ tag: Tag.ENTRY, value: badType }]),
        }),
      (stream: number): Buffer => encodeFrame(encode.stdout(stream, Buffer.from("x"))),
      (stream: number): Buffer => encodeFrame(encodeFs.data(stream, Buffer.from("x"))),
    ]) {
      const files = await clientOf((request) => [reply(request.stream), done(request.stream)]);
      await expect(files.list(".", { maxEntries: 10 })).rejects.toMatchObject({ code: "PROTOCOL_ERROR" });
    }
  });

  it("passes a refusal on as a FileOpError with bounded, single-line text", async () => {
    const files = await clientOf((request) => [
      encodeFrame(encode.error(request.stream, { code: "OUTSIDE_ROOT", message: `a\nb${"x".repeat(5000)}` })),
    ]);
    const error: unknown = await files.read("x", 0, 1).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(FileOpError);
    expect(error).toMatchObject({ code: "OUTSIDE_ROOT" });
    expect((error as FileOpError).message.length).toBeLessThanOrEqual(500);
    expect((error as FileOpError).message).not.toContain("\n");
  });
});
