import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { MessageType } from "../../src/agent-protocol/constants.js";
import { FrameDecoder, FrameError, decodeFrame, encodeFrame } from "../../src/agent-protocol/frame.js";
import { decodeFs } from "../../src/agent-protocol/fs-messages.js";
import { decode } from "../../src/agent-protocol/messages.js";
import { VALID_VECTORS } from "./golden-vectors.js";

const GOLDEN = new URL("../../protocol/golden/frames.txt", import.meta.url);

function readVectors(): Map<string, Buffer> {
  const vectors = new Map<string, Buffer>();
  for (const line of readFileSync(GOLDEN, "utf8").split("\n")) {
    if (line.trim() === "" || line.startsWith("#")) continue;
    const [name, hex] = line.split(" ");
    vectors.set(name as string, Buffer.from(hex as string, "hex"));
  }
  return vectors;
}

/** Decodes a frame and its message body the way the host client does. */
function decodeMessage(bytes: Buffer): unknown {
  const frame = decodeFrame(bytes);
  switch (frame.type) {
    case MessageType.HELLO:
      return decode.hello(frame.body);
    case MessageType.IDENTIFY:
      return decode.identify(frame.body);
    case MessageType.FREEZE:
      return decode.freeze(frame.body);
    case MessageType.HELLO_ACK:
      return decode.helloAck(frame.body);
    case MessageType.EXEC:
      return decode.exec(frame.body);
    case MessageType.EXIT:
      return decode.exit(frame.body);
    case MessageType.SIGNAL:
      return decode.signal(frame.body);
    case MessageType.RESIZE:
      return decode.resize(frame.body);
    case MessageType.STARTED:
      return decode.started(frame.body);
    case MessageType.CONNECT:
      return decode.connect(frame.body);
    case MessageType.CLOSED:
      return decode.closed(frame.body);
    case MessageType.ERROR:
      return decode.error(frame.body);
    case MessageType.FS_LIST:
    case MessageType.FS_READ:
    case MessageType.FS_WRITE:
    case MessageType.FS_MKDIR:
    case MessageType.FS_REMOVE:
    case MessageType.FS_RENAME:
    case MessageType.FS_CHMOD:
    case MessageType.FS_REALPATH:
    case MessageType.FS_LINK:
      return decodeFs.request(frame.type, frame.body);
    case MessageType.FS_ENTRIES:
      return decodeFs.entries(frame.body);
    case MessageType.FS_DONE:
      return decodeFs.done(frame.body);
    default:
      return frame.body;
  }
}

describe("golden frame vectors", () => {
  const vectors = readVectors();

  it("covers every named message and nothing unknown", () => {
    const valid = [...vectors.keys()].filter((name) => !name.startsWith("invalid_"));
    expect(valid.sort()).toEqual(Object.keys(VALID_VECTORS).sort());
  });

  for (const [name, expected] of Object.entries(VALID_VECTORS)) {
    it(`encodes and decodes ${name}`, () => {
      const bytes = vectors.get(name);
      expect(bytes, `vector ${name} missing`).toBeDefined();
      expect(encodeFrame(expected).toString("hex")).toBe(bytes?.toString("hex"));
      const frame = decodeFrame(bytes as Buffer);
      expect(frame).toEqual(expected);
      expect(() => decodeMessage(bytes as Buffer)).not.toThrow();
    });
  }

  it("decodes message bodies to the documented values", () => {
    expect(decodeMessage(vectors.get("exec_argv") as Buffer)).toEqual({
      args: ["git", "--version"],
      env: ["HOME=/root", "PATH=/usr/bin:/bin"],
      cwd: "/workspace",
      timeoutMs: 30000,
    });
    expect(decodeMessage(vectors.get("exec_pty") as Buffer)).toMatchObject({
      pty: { cols: 120, rows: 30 },
      stdin: true,
    });
    expect(decodeMessage(vectors.get("exec_user") as Buffer)).toEqual({
      args: ["id"],
      user: { uid: 1000, gid: 1000 },
    });
    expect(decodeMessage(vectors.get("resize") as Buffer)).toEqual({ cols: 80, rows: 24 });
    expect(decodeMessage(vectors.get("exit_killed") as Buffer)).toEqual({
      exitCode: -1,
      signal: 9,
      timedOut: true,
      durationMs: 30000,
    });
    expect(decodeMessage(vectors.get("connect") as Buffer)).toBe(8080);
    expect(decodeMessage(vectors.get("closed") as Buffer)).toEqual({});
    expect(decodeMessage(vectors.get("closed_error") as Buffer)).toEqual({
      error: "Connection reset by peer",
    });
    expect(decodeMessage(vectors.get("hello") as Buffer)).toEqual({
      version: 1,
      client: "pyro-test",
      hostTimeMs: 1_700_000_000_000,
    });
  });

  it("decodes session-control bodies to the documented values", () => {
    expect(decodeMessage(vectors.get("hello_resume") as Buffer)).toEqual({
      version: 1,
      client: "pyro-supervisor",
      hostTimeMs: 1_700_000_000_000,
      resume: true,
    });
    expect(decodeMessage(vectors.get("identify") as Buffer)).toEqual({
      hostname: "pyro-3f2a9c",
      machineId: "0123456789abcdef0123456789abcdef",
      entropy: Buffer.from(Array.from({ length: 32 }, (_, i) => i)),
      workspaceDevice: "/dev/vdb",
    });
    expect(decodeMessage(vectors.get("identify_no_disk") as Buffer)).toEqual({
      hostname: "Sandbox-1",
      machineId: "f".repeat(32),
      entropy: Buffer.alloc(256, 0xa5),
    });
    expect(decodeMessage(vectors.get("freeze") as Buffer)).toBe(10000);
  });

  it("decodes file-operation bodies to the documented values", () => {
    expect(decodeMessage(vectors.get("fs_list") as Buffer)).toEqual({
      path: Buffer.from("src"),
      scope: 2,
      maxEntries: 10001,
    });
    expect(decodeMessage(vectors.get("fs_write_open") as Buffer)).toEqual({
      path: Buffer.from([0x6e, 0xff, 0x0a]),
      parents: false,
      mtimeNs: 1_700_000_000_123_456_789n,
      noFsync: true,
    });
    expect(decodeMessage(vectors.get("fs_write") as Buffer)).toMatchObject({ mode: 0o755, parents: true });
    expect(decodeMessage(vectors.get("fs_entries") as Buffer)).toEqual([
      expect.objectContaining({ name: Buffer.from("src/main.c"), type: "file", mode: 0o644, size: 1234 }),
      expect.objectContaining({ type: "symlink", uid: 1000, link: Buffer.from("../v2") }),
    ]);
    expect(decodeMessage(vectors.get("fs_done_list") as Buffer)).toEqual({ count: 2, truncated: true });
    expect(decodeMessage(vectors.get("fs_done_realpath") as Buffer)).toEqual({ path: Buffer.alloc(0) });
  });

  for (const name of [...vectors.keys()].filter((n) => n.startsWith("invalid_"))) {
    it(`rejects ${name}`, () => {
      const bytes = vectors.get(name) as Buffer;
      expect(() => decodeMessage(bytes)).toThrow(FrameError);
      expect(() => new FrameDecoder().push(bytes).map((frame) => decodeMessage(encodeFrame(frame)))).toThrow(
        FrameError,
      );
    });
  }
});

describe("FrameDecoder", () => {
  it("reassembles frames split at every byte boundary", () => {
    const stream = Buffer.concat(Object.values(VALID_VECTORS).map(encodeFrame));
    const decoder = new FrameDecoder();
    const frames = [];
    for (const byte of stream) frames.push(...decoder.push(Buffer.from([byte])));
    expect(frames).toEqual(Object.values(VALID_VECTORS));
  });

  it("rejects an oversize header before its body arrives", () => {
    const header = Buffer.from("000100010000000121000000", "hex");
    expect(() => new FrameDecoder().push(header)).toThrow(/exceeds/);
  });
});
