import { mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { connect, createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FrameChannel } from "../../src/agent-protocol/channel.js";
import { MessageType } from "../../src/agent-protocol/constants.js";
import type { Frame } from "../../src/agent-protocol/frame.js";
import { decode, encode } from "../../src/agent-protocol/messages.js";
import { PyroError } from "../../src/errors/index.js";
import { ControlHandler } from "../../src/runtime/control.js";
import { decodeControl, encodeControl } from "../../src/runtime/control-codec.js";
import type { ManagedInfo, PublishedPort } from "../../src/runtime/control-protocol.js";
import { OUTPUT_CAPACITY } from "../../src/runtime/managed.js";
import { StreamRouter } from "../../src/runtime/router.js";
import {
  MAX_STATE_FILE,
  readSupervisorState,
  writeSupervisorState,
  type SupervisorState,
} from "../../src/runtime/supervisor-state.js";

/**
 * The guest side of the agent channel, scripted: it records what the supervisor sends and answers
 * as the agent would. It outlives a supervisor (as the guest outlives a pause): `attach` gives it
 * the next supervisor's channel.
 */
class Guest {
  channel: FrameChannel | null = null;
  readonly frames: Frame[] = [];
  private waiters: (() => void)[] = [];
  autoConnect = true;
  private readonly connections = new Set<number>();

  attach(socket: Socket): void {
    this.channel = new FrameChannel(socket, {
      onFrame: (frame) => {
        this.frames.push(frame);
        if (frame.type === MessageType.EXEC) this.send(encode.started(frame.stream, 1000 + frame.stream));
        if (frame.type === MessageType.CONNECT && this.autoConnect) this.send(encode.connected(frame.stream));
        if (frame.type === MessageType.CONNECT) this.connections.add(frame.stream);
        if (frame.type === MessageType.SIGNAL && this.connections.delete(frame.stream))
          this.send(encode.closed(frame.stream));
        for (const waiter of this.waiters.splice(0)) waiter();
      },
      onProtocolError: () => undefined,
      onClose: () => undefined,
    });
  }

  send(frame: Frame): void {
    this.channel?.send(frame);
  }

  async next(type: number, after = 0): Promise<Frame> {
    for (;;) {
      const found = this.frames.slice(after).find((frame) => frame.type === type);
      if (found !== undefined) return found;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }
}

/** The fields of the replies these tests look at (the control schemas check them in the client). */
interface Reply {
  info: ManagedInfo;
  processes: ManagedInfo[];
  port: PublishedPort;
  next: number;
  end: number;
  dropped: number;
}

interface Host {
  handler: ControlHandler;
  router: StreamRouter;
  channel: FrameChannel;
  protocolErrors: Error[];
}

let dir: string;
let server: Server;
let socketPath: string;
const hosts: Host[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "pyro-state-"));
  socketPath = join(dir, "agent.sock");
  server = createServer();
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
});

afterEach(async () => {
  for (const host of hosts.splice(0)) {
    host.handler.endAll("test over");
    host.channel.close();
  }
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

/** A supervisor's agent side (router + control handler) over a real socket to `guest`. */
async function supervisor(guest: Guest, before?: (host: Host) => void): Promise<Host> {
  const accepted = new Promise<Socket>((resolve) => server.once("connection", resolve));
  const socket = connect(socketPath);
  await new Promise<void>((resolve) => socket.once("connect", resolve));
  const protocolErrors: Error[] = [];
  let router: StreamRouter | null = null;
  const channel = new FrameChannel(socket, {
    onFrame: (frame) => {
      try {
        router?.fromGuest(frame);
      } catch (error) {
        protocolErrors.push(error as Error);
      }
    },
    onProtocolError: (error) => protocolErrors.push(error),
    onClose: () => undefined,
  });
  router = new StreamRouter(channel);
  const fixed = router;
  const host: Host = { handler: new ControlHandler(() => fixed), router: fixed, channel, protocolErrors };
  hosts.push(host);
  before?.(host);
  guest.attach(await accepted);
  return host;
}

async function control(host: Host, request: object, data?: Buffer): Promise<{ reply: Reply; data: Buffer }> {
  const { header, data: out } = decodeControl(await host.handler.handle(encodeControl(request, data)));
  return { reply: header as Reply, data: out };
}

async function readAll(
  host: Host,
  kind: string,
  id: string,
  cursor: number,
): Promise<{ data: Buffer; reply: Reply }> {
  const pieces: Buffer[] = [];
  for (let at = cursor; ;) {
    const { reply, data } = await control(host, {
      op: "read",
      kind,
      id,
      cursor: at,
      max_bytes: 4 * 1024 * 1024,
    });
    pieces.push(data);
    if (reply.next >= reply.end) return { data: Buffer.concat(pieces), reply };
    at = reply.next;
  }
}

async function settled(host: Host, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`never settled (protocol errors: ${host.protocolErrors.map((e) => e.message).join("; ")})`);
}

function listen(port = 0): Promise<{ server: Server; port: number }> {
  const s = createServer();
  return new Promise((resolve, reject) => {
    s.once("error", reject);
    s.listen(port, "127.0.0.1", () => resolve({ server: s, port: (s.address() as AddressInfo).port }));
  });
}

/** Ends the old supervisor as a pause does: its channel and ports close, the guest keeps going. */
function pauseEnd(host: Host): void {
  hosts.splice(hosts.indexOf(host), 1);
  host.handler.endAll("paused");
  host.channel.close();
}

describe("supervisor state across a pause", () => {
  it("keeps shells, services, cursors, rings at capacity, waits and ports, and continues stream ids", async () => {
    const guest = new Guest();
    const before = await supervisor(guest);
    const shell = (
      await control(before, {
        op: "start",
        kind: "shell",
        name: "sh",
        request: { args: ["bash"], stdin: true },
      })
    ).reply.info;
    expect(shell.state).toBe("running");
    const shellStream = (await guest.next(MessageType.EXEC)).stream;
    // 1.5 MiB of output: the ring drops the first half MiB.
    const chunk = Buffer.alloc(64 * 1024);
    for (let i = 0; i < 24; i++) guest.send(encode.stdout(shellStream, chunk.fill(i)));
    const svc = (
      await control(before, { op: "start", kind: "service", name: "web", request: { args: ["x"] } })
    ).reply.info;
    const svcStream = guest.frames.filter((f) => f.type === MessageType.EXEC)[1]!.stream;
    guest.send(encode.stdout(svcStream, Buffer.from("listening\n")));
    guest.send(encode.exit(svcStream, { exitCode: 3, signal: 0, timedOut: false, durationMs: 5 }));
    const api = (
      await control(before, { op: "start", kind: "service", name: "api", request: { args: ["y"] } })
    ).reply.info;
    await settled(
      before,
      async () => (await control(before, { op: "list" })).reply.processes[1]?.state === "exited",
    );
    expect(svc.id).toBe("web");
    const published = (await control(before, { op: "publish", host_port: 0, guest_port: 8080, owner: "api" }))
      .reply.port;
    // A connection open during the pause: its guest stream is an orphan afterwards.
    const socket = connect(published.host_port, "127.0.0.1");
    socket.on("error", () => undefined);
    const connectFrame = await guest.next(MessageType.CONNECT);
    await settled(
      before,
      async () =>
        (await control(before, { op: "read", kind: "shell", id: shell.id, cursor: 0, max_bytes: 1 })).reply
          .end ===
        24 * 65536,
    );

    const cursor = 24 * 65536 - OUTPUT_CAPACITY + 1000;
    const beforeRead = await readAll(before, "shell", shell.id, cursor);
    const beforeDropped = (
      await control(before, { op: "read", kind: "shell", id: shell.id, cursor: 0, max_bytes: 10 })
    ).reply;
    expect(beforeDropped.dropped).toBe(24 * 65536 - OUTPUT_CAPACITY);

    const state = before.handler.exportState();
    const file = join(dir, "supervisor-state.bin");
    writeSupervisorState(file, state);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // Header plus raw bytes: the rings are not inflated (base64 would be a third larger).
    expect(statSync(file).size).toBeLessThan(OUTPUT_CAPACITY + 64 * 1024);
    expect(state.orphan_streams).toEqual([connectFrame.stream]);
    pauseEnd(before);

    const after = await supervisor(guest, (host) => host.handler.importState(readSupervisorState(file)));
    const seen = guest.frames.length;
    // The guest goes on where it was: output on the old shell stream, a frame on the orphan.
    guest.send(encode.stdout(shellStream, Buffer.from("after the pause\n")));
    guest.send(encode.stdout(connectFrame.stream, Buffer.from("late bytes for a gone client")));
    const report = await after.handler.reattach();
    expect(report.lost).toEqual([]);
    expect(report.ports).toEqual([published]);
    // The orphaned connection is ended in the guest.
    expect((await guest.next(MessageType.SIGNAL, seen)).stream).toBe(connectFrame.stream);

    await settled(
      after,
      async () =>
        (await control(after, { op: "read", kind: "shell", id: shell.id, cursor: 0, max_bytes: 1 })).reply
          .end >
        24 * 65536,
    );
    const afterRead = await readAll(after, "shell", shell.id, cursor);
    expect(afterRead.data.subarray(0, beforeRead.data.length).equals(beforeRead.data)).toBe(true);
    expect(afterRead.data.subarray(beforeRead.data.length).toString()).toBe("after the pause\n");
    expect(afterRead.reply.end).toBe(24 * 65536 + 16);
    const dropped = (
      await control(after, { op: "read", kind: "shell", id: shell.id, cursor: 0, max_bytes: 10 })
    ).reply;
    expect(dropped.dropped).toBe(24 * 65536 + 16 - OUTPUT_CAPACITY);

    // The ended service keeps its exit info and log.
    const web = await readAll(after, "service", "web", 0);
    expect(web.data.toString()).toBe("listening\n");
    expect(web.reply.info).toMatchObject({ state: "exited", exit_code: 3, pid: 1000 + svcStream });

    // A wait on the restored shell sees its exit.
    const waiting = control(after, { op: "wait", kind: "shell", id: shell.id, timeout_ms: 5000 });
    guest.send(encode.exit(shellStream, { exitCode: 0, signal: 0, timedOut: false, durationMs: 9 }));
    expect((await waiting).reply.info).toMatchObject({ state: "exited", exit_code: 0 });

    // Input still reaches the running service's old stream.
    const mark = guest.frames.length;
    await control(after, { op: "signal", kind: "service", id: api.id, signo: 15 });
    const signal = await guest.next(MessageType.SIGNAL, mark);
    expect(signal.stream).toBe(guest.frames.filter((f) => f.type === MessageType.EXEC)[2]!.stream);
    expect(decode.signal(signal.body)).toBe(15);

    // The port is bound again on the same host port, and new streams get new ids.
    const again = connect(published.host_port, "127.0.0.1");
    again.on("error", () => undefined);
    const reconnect = await guest.next(MessageType.CONNECT, seen);
    expect(reconnect.stream).toBeGreaterThan(connectFrame.stream);
    again.destroy();
    socket.destroy();
    expect(after.protocolErrors).toEqual([]);
  });

  it("reports a published port it cannot bind again", async () => {
    const guest = new Guest();
    const before = await supervisor(guest);
    const port = (await control(before, { op: "publish", host_port: 0, guest_port: 80 })).reply.port;
    const state = before.handler.exportState();
    pauseEnd(before);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const taker = await listen(port.host_port);
    try {
      const after = await supervisor(guest, (host) => host.handler.importState(state));
      const report = await after.handler.reattach();
      expect(report.ports).toEqual([]);
      expect(report.lost).toEqual([
        { port, code: "PORT_IN_USE", message: `host port ${port.host_port} is already in use` },
      ]);
    } finally {
      taker.server.close();
    }
  });

  it("masks a secret value split by the pause", async () => {
    const secrets = join(dir, "secrets");
    const { mkdirSync } = await import("node:fs");
    mkdirSync(secrets);
    writeFileSync(join(secrets, "TOKEN"), "hunter2-swordfish");
    const guest = new Guest();
    const before = await supervisor(guest);
    const shell = (
      await control(before, {
        op: "start",
        kind: "shell",
        name: "sh",
        request: { args: ["bash"] },
        mask_dir: secrets,
      })
    ).reply.info;
    const stream = (await guest.next(MessageType.EXEC)).stream;
    guest.send(encode.stdout(stream, Buffer.from("token=hunter2-")));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const file = join(dir, "state");
    writeSupervisorState(file, before.handler.exportState());
    pauseEnd(before);
    const after = await supervisor(guest, (host) => host.handler.importState(readSupervisorState(file)));
    await after.handler.reattach();
    guest.send(encode.stdout(stream, Buffer.from("swordfish done\n")));
    await settled(after, async () =>
      (await readAll(after, "shell", shell.id, 0)).data.toString().endsWith("done\n"),
    );
    expect((await readAll(after, "shell", shell.id, 0)).data.toString()).toBe("token=[secret:TOKEN] done\n");
  });
});

describe("supervisor state files", () => {
  const minimal = (): SupervisorState => ({
    version: 1,
    saved_at: new Date().toISOString(),
    next_stream: 5,
    processes: [],
    ports: [],
    orphan_streams: [3],
  });

  it("round-trips and refuses corrupt, truncated, trailing or oversized files", () => {
    const file = join(dir, "state");
    const state = minimal();
    writeSupervisorState(file, state);
    expect(readSupervisorState(file)).toEqual(state);
    const good = readFileSync(file);
    const refused = (bytes: Buffer | null, message: RegExp): void => {
      if (bytes !== null) writeFileSync(file, bytes);
      let error: unknown;
      try {
        readSupervisorState(file);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(PyroError);
      expect((error as PyroError).code).toBe("STATE_CORRUPT");
      expect((error as PyroError).message).toMatch(message);
    };
    refused(Buffer.concat([Buffer.from("NOTSTATE"), good.subarray(8)]), /bad magic/);
    refused(good.subarray(0, good.length - 3), /bad header length|not JSON/);
    refused(Buffer.concat([good, Buffer.from("x")]), /1 bytes after the last section/);
    const badHeader = Buffer.from(good);
    badHeader.writeUInt32BE(0xffffffff, 8);
    refused(badHeader, /bad header length/);
    const forged = JSON.parse(good.subarray(12).toString()) as Record<string, unknown>;
    forged["next_stream"] = -1;
    const body = Buffer.from(JSON.stringify(forged));
    const preamble = Buffer.alloc(12);
    good.copy(preamble, 0, 0, 8);
    preamble.writeUInt32BE(body.length, 8);
    refused(Buffer.concat([preamble, body]), /next_stream/);
    writeFileSync(file, good);
    truncateSync(file, MAX_STATE_FILE + 1);
    refused(null, /more than the \d+ allowed/);
    refused(Buffer.alloc(0), /bad magic/);
    rmSync(file);
    refused(null, /cannot open/);
  });

  it("refuses a section that claims more bytes than follow", () => {
    const file = join(dir, "state");
    const header = {
      ...minimal(),
      orphan_streams: [],
      processes: [
        {
          info: {
            id: "sh-1",
            kind: "shell",
            name: "sh",
            state: "exited",
            pid: 1,
            exit_code: 0,
            signal: null,
            started_at: "",
            ended_at: "",
            output_end: 100,
            cwd: "/",
            pty: null,
            error: null,
          },
          stream: null,
          mask_dir: null,
          last_output_at: 0,
          output_start: 0,
          output: 100,
          mask_pending: 0,
        },
      ],
    };
    const body = Buffer.from(JSON.stringify(header));
    const preamble = Buffer.alloc(12);
    Buffer.from("PYROSUP1").copy(preamble);
    preamble.writeUInt32BE(body.length, 8);
    writeFileSync(file, Buffer.concat([preamble, body, Buffer.alloc(40)]));
    expect(() => readSupervisorState(file)).toThrow(/runs past the end/);
  });
});
