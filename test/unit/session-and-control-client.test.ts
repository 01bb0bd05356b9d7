import { Duplex, PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { AgentClient } from "../../src/agent-protocol/client.js";
import { FrameChannel } from "../../src/agent-protocol/channel.js";
import { MessageType } from "../../src/agent-protocol/constants.js";
import { FrameDecoder, encodeFrame, type Frame } from "../../src/agent-protocol/frame.js";
import { decode, encode, type HelloAck } from "../../src/agent-protocol/messages.js";
import { AcceptingSession, StreamTable } from "../../src/agent-protocol/session.js";
import { ControlClient } from "../../src/runtime/control-client.js";
import { encodeControl } from "../../src/runtime/control-codec.js";

const ACK: HelloAck = { version: 1, agentVersion: "t", kernelRelease: "t", maxBody: 65536, mode: "host" };

/** Two ends of an in-memory byte stream. */
function pipe(): { near: Duplex; far: Duplex } {
  const a = new PassThrough();
  const b = new PassThrough();
  const near = Duplex.from({ readable: a, writable: b });
  const far = Duplex.from({ readable: b, writable: a });
  // Closing one end aborts the other (an AbortError): that is how the peer learns it, not a failure.
  for (const end of [near, far]) end.on("error", () => undefined);
  return { near, far };
}

/** A supervisor's side made of the real session layer, answering each CONTROL body with `answer`. */
function supervisorPeer(answer: (body: Buffer) => Buffer): Duplex {
  const { near, far } = pipe();
  const channel = new FrameChannel(far, {
    onFrame: (frame) => {
      if (session.onFrame(frame)) return;
      if (frame.type === MessageType.CONTROL)
        channel.send({
          type: MessageType.CONTROL_REPLY,
          stream: frame.stream,
          flags: 0,
          body: answer(frame.body),
        });
    },
    onProtocolError: () => undefined,
    onClose: () => undefined,
  });
  const session = new AcceptingSession(channel, { ack: () => ACK, onShutdown: async () => undefined });
  return near;
}

const controlOf = (answer: (body: Buffer) => Buffer) =>
  new ControlClient(() => AgentClient.connect(supervisorPeer(answer), { client: "test", timeoutMs: 2_000 }));

describe("stream ids", () => {
  it("are never 0 nor one still open, and wrap around", () => {
    const table = new StreamTable<string>();
    const first = table.add("a");
    const second = table.add("b");
    expect([first, second]).toEqual([1, 2]);
    table.delete(first);
    // Freed ids are reused only after the counter comes round again.
    expect(table.add("c")).toBe(3);
    for (let i = 4; i <= 10; i++) table.add(String(i));
    expect(table.size).toBe(9);
    expect(table.drain()).toHaveLength(9);
    expect(table.size).toBe(0);
  });

  it("skip 0 and ids in use when the counter wraps", () => {
    const table = new StreamTable<number>();
    // Bring the counter to the top of the u32 range while ids 1 and 2 stay open.
    expect(table.add(1)).toBe(1);
    expect(table.add(2)).toBe(2);
    (table as unknown as { next: number }).next = 0xffffffff;
    expect(table.add(3)).toBe(0xffffffff);
    expect(table.add(4)).toBe(3);
  });
});

describe("the session layer", () => {
  it("a client gives up on a peer that answers another protocol version", async () => {
    const { near, far } = pipe();
    const decoder = new FrameDecoder();
    far.on("data", (chunk: Buffer) => {
      for (const frame of decoder.push(chunk))
        if (frame.type === MessageType.HELLO) far.write(encodeFrame(encode.helloAck({ ...ACK, version: 2 })));
    });
    await expect(AgentClient.connect(near, { client: "test", timeoutMs: 2_000 })).rejects.toMatchObject({
      code: "PROTOCOL_ERROR",
      message: expect.stringContaining("speaks version 2"),
    });
  });

  it("a client is told VERSION_MISMATCH's reason when the peer refuses its HELLO", async () => {
    const { near, far } = pipe();
    const decoder = new FrameDecoder();
    far.on("data", (chunk: Buffer) => {
      for (const frame of decoder.push(chunk))
        if (frame.type === MessageType.HELLO)
          far.write(encodeFrame(encode.error(0, { code: "VERSION_MISMATCH", message: "speaks 9" })));
    });
    await expect(AgentClient.connect(near, { client: "test", timeoutMs: 2_000 })).rejects.toMatchObject({
      code: "PROTOCOL_ERROR",
      message: expect.stringContaining("VERSION_MISMATCH"),
    });
  });

  it("an accepting side wants HELLO first, refuses another version, and acknowledges SHUTDOWN", async () => {
    const { near, far } = pipe();
    const received: Frame[] = [];
    const decoder = new FrameDecoder();
    near.on("data", (chunk: Buffer) => received.push(...decoder.push(chunk)));
    let shutdowns = 0;
    const channel = new FrameChannel(far, {
      onFrame: (frame) => void session.onFrame(frame),
      onProtocolError: () => undefined,
      onClose: () => undefined,
    });
    const session = new AcceptingSession(channel, {
      ack: () => ACK,
      onShutdown: async () => void shutdowns++,
    });
    expect(session.onFrame(encode.hello({ version: 1, client: "t" }))).toBe(true);
    expect(session.onFrame(encode.shutdown())).toBe(true);
    expect(session.onFrame(encode.ping(3, Buffer.from("x")))).toBe(false);
    expect(() => session.onFrame(encode.ping(0, Buffer.from("x")))).toThrow(/on stream 0/);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(shutdowns).toBe(1);
    expect(received.map((f) => f.type)).toEqual([MessageType.HELLO_ACK, MessageType.SHUTDOWN_ACK]);
    expect(decode.helloAck((received[0] as Frame).body)).toEqual(ACK);

    const fresh = new AcceptingSession(channel, { ack: () => ACK, onShutdown: async () => undefined });
    expect(() => fresh.onFrame(encode.shutdown())).toThrow(/HELLO must come first/);
    expect(fresh.onFrame(encode.hello({ version: 2 }))).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const refusal = received.at(-1) as Frame;
    expect(refusal.type).toBe(MessageType.ERROR);
    expect(decode.error(refusal.body).code).toBe("VERSION_MISMATCH");
    expect(channel.isClosed).toBe(true);
  });
});

describe("the control client", () => {
  it("returns the typed reply of its request", async () => {
    const control = controlOf(() => encodeControl({ ok: true, op: "ports", ports: [] }));
    expect(await control.ports()).toEqual([]);
  });

  it("raises a refusal with the catalog code the supervisor chose", async () => {
    const control = controlOf(() =>
      encodeControl({ ok: false, code: "SHELL_ENDED", message: "sh-1 has ended" }),
    );
    await expect(control.write({ kind: "shell", id: "sh-1" }, Buffer.from("x"))).rejects.toMatchObject({
      code: "SHELL_ENDED",
      message: "sh-1 has ended",
    });
  });

  it("treats a malformed or mismatched reply as a protocol error, never as data", async () => {
    const replies = [
      encodeControl({ ok: true, op: "list", processes: [] }), // the reply of another request
      encodeControl({ ok: true, op: "ports", ports: [{ host_port: "80" }] }),
      encodeControl({ ok: false, code: "NOT_A_CODE", message: "x" }),
      Buffer.from([0, 0, 0, 9, 0x7b]),
      Buffer.from([0, 0, 0, 2, 0x7b, 0x7b]),
    ];
    for (const reply of replies) {
      await expect(controlOf(() => reply).ports()).rejects.toMatchObject({ code: "PROTOCOL_ERROR" });
    }
  });
});
