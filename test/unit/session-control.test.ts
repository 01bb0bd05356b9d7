import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Duplex, PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { FrameChannel } from "../../src/agent-protocol/channel.js";
import { MessageType, Tag } from "../../src/agent-protocol/constants.js";
import { encodeFields, u32, type Field } from "../../src/agent-protocol/fields.js";
import { FrameError, encodeFrame, type Frame } from "../../src/agent-protocol/frame.js";
import { decode, encode, type ExitStatus, type Identity } from "../../src/agent-protocol/messages.js";
import { OpeningSession } from "../../src/agent-protocol/session.js";

const AGENT = fileURLToPath(new URL("../../guest/build/pyro-agent", import.meta.url));

const IDENTITY: Identity = {
  hostname: "pyro-1",
  machineId: "0123456789abcdef0123456789abcdef",
  entropy: Buffer.alloc(32, 7),
};

const field = (tag: number, value: string | Buffer): Field => ({
  tag,
  value: typeof value === "string" ? Buffer.from(value) : value,
});
/** Fields in the given order (encodeFields sorts; a hostile peer need not). */
const raw = (...fields: Field[]): Buffer =>
  Buffer.concat(
    fields.map((f) => {
      const head = Buffer.alloc(5);
      head.writeUInt8(f.tag, 0);
      head.writeUInt32BE(f.value.length, 1);
      return Buffer.concat([head, f.value]);
    }),
  );
const H = field(Tag.HOSTNAME, "pyro-1");
const M = field(Tag.MACHINE_ID, IDENTITY.machineId);
const E = field(Tag.ENTROPY, Buffer.alloc(32));

describe("IDENTIFY, FREEZE and HELLO RESUME codecs", () => {
  it("round-trip, with the optional workspace device", () => {
    const identity = { ...IDENTITY, workspaceDevice: "/dev/vdb" };
    expect(decode.identify(encode.identify(identity).body)).toEqual(identity);
    expect(decode.identify(encode.identify(IDENTITY).body)).toEqual(IDENTITY);
    expect(decode.freeze(encode.freeze(30_000).body)).toBe(30_000);
    expect(decode.hello(encode.hello({ version: 1, resume: true }).body)).toEqual({
      version: 1,
      resume: true,
    });
    expect(decode.hello(encode.hello({ version: 1, resume: false }).body)).toEqual({
      version: 1,
      resume: false,
    });
  });

  const hostile: Array<[string, Buffer]> = [
    ["no hostname", raw(M, E)],
    ["no machine id", raw(H, E)],
    ["no entropy", raw(H, M)],
    ["a repeated hostname", raw(H, M, E, H)],
    ["a repeated entropy", raw(H, E, M, E)],
    [
      "a repeated device",
      raw(H, M, E, field(Tag.WORKSPACE_DEVICE, "/dev/vdb"), field(Tag.WORKSPACE_DEVICE, "/dev/vdb")),
    ],
    ["31 bytes of entropy", raw(H, M, field(Tag.ENTROPY, Buffer.alloc(31)))],
    ["257 bytes of entropy", raw(H, M, field(Tag.ENTROPY, Buffer.alloc(257)))],
    ["a 64-byte hostname", raw(field(Tag.HOSTNAME, "a".repeat(64)), M, E)],
    ["a hostname with a dot", raw(field(Tag.HOSTNAME, "a.b"), M, E)],
    ["a hostname ending in '-'", raw(field(Tag.HOSTNAME, "ab-"), M, E)],
    ["a non-ASCII hostname", raw(field(Tag.HOSTNAME, "h\u00e9"), M, E)],
    ["an empty hostname", raw(field(Tag.HOSTNAME, ""), M, E)],
    ["an uppercase machine id", raw(H, field(Tag.MACHINE_ID, IDENTITY.machineId.toUpperCase()), E)],
    ["a 33-digit machine id", raw(H, field(Tag.MACHINE_ID, `${IDENTITY.machineId}0`), E)],
    ["a device outside /dev", raw(H, M, E, field(Tag.WORKSPACE_DEVICE, "/tmp/vdb"))],
    ["a device path with ..", raw(H, M, E, field(Tag.WORKSPACE_DEVICE, "/dev/../sda"))],
    ["a device with a NUL", raw(H, M, E, field(Tag.WORKSPACE_DEVICE, "/dev/vdb\0"))],
    ["a device name of 33 bytes", raw(H, M, E, field(Tag.WORKSPACE_DEVICE, `/dev/${"a".repeat(33)}`))],
    ["a field running past the body", raw(H, M, E).subarray(0, 50)],
  ];
  for (const [what, body] of hostile) {
    it(`IDENTIFY with ${what} is refused`, () => {
      expect(() => decode.identify(body)).toThrow(FrameError);
    });
  }

  it("the encoder refuses what the agent would refuse", () => {
    expect(() => encode.identify({ ...IDENTITY, hostname: "-x" })).toThrow(FrameError);
    expect(() => encode.identify({ ...IDENTITY, entropy: Buffer.alloc(8) })).toThrow(FrameError);
    expect(() => encode.identify({ ...IDENTITY, workspaceDevice: "/dev/vd b" })).toThrow(FrameError);
    expect(encode.identify({ ...IDENTITY, hostname: "a".repeat(63) }).body.length).toBeGreaterThan(63);
  });

  it("FREEZE needs exactly one timeout of at least 1 ms; RESUME is 0 or 1", () => {
    expect(() => decode.freeze(Buffer.alloc(0))).toThrow(FrameError);
    expect(() => decode.freeze(encodeFields([u32(Tag.TIMEOUT_MS, 0)]))).toThrow(FrameError);
    expect(() => decode.freeze(raw(field(Tag.TIMEOUT_MS, Buffer.alloc(5))))).toThrow(FrameError);
    const one = u32(Tag.TIMEOUT_MS, 5);
    expect(() => decode.freeze(raw(one, one))).toThrow(/repeated/);
    expect(() => decode.hello(encodeFields([u32(Tag.VERSION, 1), u32(Tag.RESUME, 2)]))).toThrow(FrameError);
  });
});

/** The real agent in host mode, with a bare OpeningSession on stream 0 and a log of the other streams. */
function hostAgent(): {
  session: OpeningSession;
  send(frame: Frame): void;
  frames: Frame[];
  exits: Map<number, ExitStatus>;
  child: ChildProcess;
} {
  const workdir = mkdtempSync(join(tmpdir(), "pyro-ctl-"));
  dirs.push(workdir);
  const child = spawn(AGENT, ["--host", "--workdir", workdir], { stdio: ["pipe", "pipe", "ignore"] });
  children.push(child);
  const frames: Frame[] = [];
  const exits = new Map<number, ExitStatus>();
  const channel = new FrameChannel(Duplex.from({ readable: child.stdout, writable: child.stdin }), {
    onFrame: (frame) => {
      frames.push(frame);
      if (frame.stream === 0) session.onFrame(frame);
      else if (frame.type === MessageType.EXIT) exits.set(frame.stream, decode.exit(frame.body));
    },
    onProtocolError: () => undefined,
    onClose: () => session.end(new Error("closed")),
  });
  const session = new OpeningSession(channel, (error) => {
    throw new FrameError("BAD_MESSAGE", `agent error ${error.code}`);
  });
  return { session, send: (frame) => channel.send(frame), frames, exits, child };
}

const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const hello = (session: OpeningSession, resume = false) =>
  session.hello({ client: "t", resume, timeoutMs: 5_000, timeoutError: () => new Error("no HELLO_ACK") });

const until = async (what: string, done: () => boolean): Promise<void> => {
  const deadline = Date.now() + 5_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

describe("OpeningSession's session-control requests against the agent (host mode)", () => {
  it("quiesce resolves on QUIESCED, after which nothing arrives until hello({ resume: true })", async () => {
    const agent = hostAgent();
    await hello(agent.session);
    agent.send(encode.exec(1, { shell: "while :; do echo x; done" }));
    await until("output", () => agent.frames.some((f) => f.type === MessageType.STDOUT));
    await agent.session.quiesce(5_000);
    const seen = agent.frames.length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(agent.frames.length).toBe(seen);
    await hello(agent.session, true);
    await until("output after resume", () =>
      agent.frames.slice(seen).some((f) => f.stream === 1 && f.type === MessageType.STDOUT),
    );
    agent.send(encode.signal(1, 9));
    await until("EXIT", () => agent.exits.has(1));
    expect(agent.exits.get(1)?.signal).toBe(9);
  });

  it("identify and freeze reject with the agent's code; thaw resolves; the session goes on", async () => {
    const agent = hostAgent();
    await hello(agent.session);
    await expect(agent.session.identify(IDENTITY, 5_000)).rejects.toMatchObject({
      code: "INTERNAL",
      details: { agent_code: "UNSUPPORTED" },
    });
    await expect(agent.session.freeze(1_000)).rejects.toMatchObject({
      details: { agent_code: "UNSUPPORTED" },
    });
    // Requests in flight together are answered in order.
    await Promise.all([agent.session.thaw(5_000), agent.session.quiesce(5_000), agent.session.thaw(5_000)]);
    // A value the agent would refuse is refused before it is sent.
    const sent = agent.frames.length;
    await expect(agent.session.identify({ ...IDENTITY, machineId: "x" }, 5_000)).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
    expect(agent.frames.length).toBe(sent);
  });
});

describe("OpeningSession's session-control requests against a peer that is late", () => {
  it("time out with AGENT_UNREACHABLE; a late reply is consumed in its turn", async () => {
    const fromPeer = new PassThrough();
    const toPeer = new PassThrough();
    const errors: string[] = [];
    const channel = new FrameChannel(Duplex.from({ readable: fromPeer, writable: toPeer }), {
      onFrame: (frame) => session.onFrame(frame),
      onProtocolError: (error) => errors.push(error.message),
      onClose: () => undefined,
    });
    const session = new OpeningSession(channel, (error) => errors.push(error.code));
    await expect(session.quiesce(50)).rejects.toMatchObject({ code: "AGENT_UNREACHABLE" });
    const thaw = session.thaw(2_000);
    fromPeer.write(encodeFrame(encode.quiesced()));
    fromPeer.write(encodeFrame(encode.thawed()));
    await thaw;
    expect(errors).toEqual([]);
    // A reply nobody waits for breaks the protocol.
    fromPeer.write(encodeFrame(encode.frozen()));
    await until("protocol error", () => errors.length > 0);
    expect(errors[0]).toMatch(/unexpected reply/);
  });
});
