import { randomBytes } from "node:crypto";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AgentClient } from "../../src/agent-protocol/client.js";
import { MAX_BODY, MessageType } from "../../src/agent-protocol/constants.js";
import { FrameDecoder, encodeFrame, type Frame } from "../../src/agent-protocol/frame.js";
import { decode, encode } from "../../src/agent-protocol/messages.js";
import { decodeControl, encodeControl } from "../../src/runtime/control-codec.js";
import { Refusal } from "../../src/runtime/control-protocol.js";
import { connectSupervisor, supervisorControl } from "../../src/sandbox/supervisor-client.js";
import { execInVm } from "../../src/sandbox/vm/exec.js";
import { loadVm, machineDir } from "../../src/sandbox/vm/manager.js";
import { vmFiles } from "../../src/sandbox/vm/record.js";
import { Pyro } from "../../src/surfaces/sdk/pyro.js";
import { processesMentioning, waitFor } from "../helpers/processes.js";
import { useTempPyroHome } from "../helpers/pyro-home.js";

let pyro: Pyro;

/** A control body with `header` as its (raw) header bytes. */
function body(header: Buffer | string, data = Buffer.alloc(0)): Buffer {
  const bytes = typeof header === "string" ? Buffer.from(header) : header;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes, data]);
}

/** The malformed requests a confused or hostile local client might send. */
const MALFORMED: Array<[string, Buffer]> = [
  ["an empty body", Buffer.alloc(0)],
  ["a body shorter than its length prefix", Buffer.from([0, 0])],
  [
    "a header length running past the body",
    Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff]), Buffer.from("{}")]),
  ],
  ["a header that is not JSON", body("{op: list}")],
  ["invalid UTF-8", body(Buffer.from([0xc3, 0x28, 0xff, 0xfe]))],
  ["random bytes", body(randomBytes(2_000))],
  ["JSON null", body("null")],
  ["a JSON array", body('[{"op":"list"}]')],
  ["a JSON string", body('"list"')],
  ["no op", encodeControl({ id: "sh-1" })],
  ["an unknown op", encodeControl({ op: "exec", request: { shell: "id" } })],
  ["a prototype key as the op", encodeControl({ op: "__proto__" })],
  ["an op hidden in __proto__", body('{"__proto__":{"op":"list"}}')],
  [
    "an unknown process kind",
    encodeControl({ op: "start", kind: "daemon", name: "x", request: { shell: "id" } }),
  ],
  ["a number for an id", encodeControl({ op: "read", kind: "shell", id: 5, cursor: 0, max_bytes: 10 })],
  ["a string for a number", encodeControl({ op: "wait", kind: "service", id: "x", timeout_ms: "10" })],
  ["a negative cursor", encodeControl({ op: "read", kind: "shell", id: "sh-1", cursor: -1, max_bytes: 10 })],
  ["a fractional port", encodeControl({ op: "publish", host_port: 0.5, guest_port: 80 })],
  ["a port out of range", encodeControl({ op: "publish", host_port: 0, guest_port: 1e9 })],
  ["a signal out of range", encodeControl({ op: "signal", kind: "shell", id: "sh-1", signo: 2 ** 40 })],
  [
    "an exec request of the wrong shape",
    encodeControl({ op: "start", kind: "shell", name: "s", request: "bash" }),
  ],
  ["a huge op", encodeControl({ op: "x".repeat(MAX_BODY - 64) })],
  ["a huge id", encodeControl({ op: "remove", kind: "shell", id: "x".repeat(MAX_BODY - 64) })],
  ["deeply nested arrays", body("[".repeat(30_000) + "]".repeat(30_000))],
  ["deeply nested objects", body('{"a":'.repeat(10_000) + "1" + "}".repeat(10_000))],
];

describe("a local client sending malformed control requests", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  let vmId: string;
  let client: AgentClient;
  beforeAll(async () => {
    home = useTempPyroHome();
    pyro = new Pyro({ home: home.home });
    vmId = (await pyro.createVm({ environment: "debian:12", backend: "host", allowHostCompat: true })).vm_id;
    await pyro.startVm({ vmId });
    client = await connectSupervisor(home.store(), loadVm(home.store(), vmId), "hostile-control");
  });
  afterAll(async () => {
    client?.close();
    await pyro.deleteVm({ vmId }).catch(() => undefined);
    expect(await waitFor(() => processesMentioning(vmId).length === 0, 5_000)).toBe(true);
    home.cleanup();
  });

  it.each(MALFORMED)("%s: a typed INVALID_ARGUMENT refusal", async (_, request) => {
    const reply = decodeControl(await client.control(request));
    const refusal = Refusal.parse(reply.header);
    expect(refusal.code).toBe("INVALID_ARGUMENT");
    expect(refusal.message.length).toBeLessThanOrEqual(1024);
    expect(reply.data.length).toBe(0);
  });

  it("answers a burst of them on one connection, and the supervisor keeps serving", async () => {
    const replies = await Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        client.control((MALFORMED[i % MALFORMED.length] as [string, Buffer])[1]),
      ),
    );
    for (const reply of replies)
      expect(Refusal.parse(decodeControl(reply).header).code).toBe("INVALID_ARGUMENT");
    // The same connection, other connections and the guest all still work.
    const listed = decodeControl(await client.control(encodeControl({ op: "list" })));
    expect(listed.header).toEqual({ ok: true, op: "list", processes: [] });
    expect(await supervisorControl(home.store(), vmId).ports()).toEqual([]);
    expect(
      (await execInVm(home.store(), vmId, { command: "echo still-here", timeoutSeconds: 30 })).stdout,
    ).toBe("still-here\n");
    expect((await pyro.statusVm({ vmId })).state).toBe("running");
  });

  it("a CONTROL before HELLO, or a frame over the size cap, drops that client only", async () => {
    const socket = vmFiles(machineDir(home.store(), vmId)).supervisorSocket;
    const exchange = (bytes: Buffer): Promise<Frame[]> =>
      new Promise((resolve) => {
        const frames: Frame[] = [];
        const decoder = new FrameDecoder();
        const connection = connect(socket, () => connection.write(bytes));
        connection.on("data", (chunk: Buffer) => frames.push(...decoder.push(chunk)));
        connection.on("error", () => undefined);
        connection.on("close", () => resolve(frames));
      });
    const early = await exchange(
      encodeFrame({ type: MessageType.CONTROL, stream: 1, flags: 0, body: encodeControl({ op: "list" }) }),
    );
    expect(early.map((f) => f.type)).toEqual([MessageType.ERROR]);
    expect(decode.error((early[0] as Frame).body)).toMatchObject({ code: "BAD_MESSAGE" });

    const oversize = Buffer.alloc(12);
    oversize.writeUInt32BE(MAX_BODY + 1, 0);
    oversize.writeUInt32BE(1, 4);
    oversize.writeUInt8(MessageType.CONTROL, 8);
    const hello = encodeFrame(encode.hello({ version: 1, client: "hostile" }));
    const dropped = await exchange(Buffer.concat([hello, oversize]));
    expect(dropped.at(-1)?.type).toBe(MessageType.ERROR);
    expect(decode.error((dropped.at(-1) as Frame).body)).toMatchObject({ code: "BAD_FRAME" });

    // The supervisor and the client that behaved are unaffected.
    expect(decodeControl(await client.control(encodeControl({ op: "ports" }))).header).toEqual({
      ok: true,
      op: "ports",
      ports: [],
    });
    expect((await pyro.statusVm({ vmId })).state).toBe("running");
  });
});
