import { FLAG_END, MessageType, Tag } from "./constants.js";
import { FieldReader, encodeFields, i32, str, u32, u64, type Field } from "./fields.js";
import { FrameError, type Frame } from "./frame.js";

export interface Hello {
  version: number;
  client?: string;
  hostTimeMs?: number;
  /** Keep the running session (reattach after a restore or a QUIESCE); absent or false: a new session. */
  resume?: boolean;
}

/** IDENTIFY: what makes a VM restored from a shared memory image its own (docs/protocol.md). */
export interface Identity {
  /** One RFC 1123 label: 1..63 of [A-Za-z0-9-], no leading or trailing '-'. */
  hostname: string;
  /** 32 lowercase hex digits, written to /etc/machine-id. */
  machineId: string;
  /** 32..256 random bytes for the guest kernel's pool. */
  entropy: Buffer;
  /** A block device (`/dev/NAME`) to mount on /workspace unless something is mounted there already. */
  workspaceDevice?: string;
}

/** Bounds of IDENTIFY's fields and FREEZE's timeout, as the agent enforces them. */
export const IDENTITY_LIMITS = { entropyMin: 32, entropyMax: 256, freezeMaxMs: 30_000 } as const;
const HOSTNAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const MACHINE_ID = /^[0-9a-f]{32}$/;
const DEVICE = /^\/dev\/[A-Za-z0-9_-]{1,32}$/;

/** Throws FrameError BAD_MESSAGE for a value the agent would refuse. */
export function checkIdentity(identity: Identity): void {
  const bad = (what: string): never => {
    throw new FrameError("BAD_MESSAGE", what);
  };
  if (!HOSTNAME.test(identity.hostname))
    bad("hostname must be 1-63 letters, digits or '-', not starting or ending with '-'");
  if (!MACHINE_ID.test(identity.machineId)) bad("machine_id must be 32 lowercase hex digits");
  const n = identity.entropy.length;
  if (n < IDENTITY_LIMITS.entropyMin || n > IDENTITY_LIMITS.entropyMax)
    bad("entropy must be 32 to 256 bytes");
  if (identity.workspaceDevice !== undefined && !DEVICE.test(identity.workspaceDevice))
    bad("workspace_device must be /dev/NAME (letters, digits, '_', '-'; at most 32)");
}

/** The one value of a field that may appear at most once. */
function single(r: FieldReader, tag: number, what: string): Buffer | undefined {
  const values = r.all(tag);
  if (values.length > 1) throw new FrameError("BAD_MESSAGE", `repeated field ${what}`);
  return values[0];
}

export interface HelloAck {
  version: number;
  agentVersion: string;
  kernelRelease: string;
  maxBody: number;
  mode: "guest" | "host";
}

export interface ExecRequest {
  args?: string[];
  shell?: string;
  env?: string[];
  cwd?: string;
  timeoutMs?: number;
  stdin?: boolean;
  /** Run on a new pseudo-terminal of this size (stdout carries the terminal's output). */
  pty?: { cols: number; rows: number };
  /** Run as this user and group (setgroups to just `gid`, setgid, setuid before exec). */
  user?: { uid: number; gid: number };
}

export interface ExitStatus {
  exitCode: number;
  signal: number;
  timedOut: boolean;
  durationMs: number;
}

/** How a forwarded connection ended; `error` names a socket error or is absent. */
export interface Closed {
  error?: string;
}

export interface ErrorMessage {
  code: string;
  message: string;
}

const frame = (type: Frame["type"], stream: number, body: Buffer, flags = 0): Frame => ({
  type,
  stream,
  body,
  flags,
});
const optional = <T>(value: T | undefined, make: (value: T) => Field): Field[] =>
  value === undefined ? [] : [make(value)];

export const encode = {
  hello: (hello: Hello): Frame =>
    frame(
      MessageType.HELLO,
      0,
      encodeFields([
        u32(Tag.VERSION, hello.version),
        ...optional(hello.client, (v) => str(Tag.CLIENT, v)),
        ...optional(hello.hostTimeMs, (v) => u64(Tag.HOST_TIME_MS, v)),
        ...optional(hello.resume, (v) => u32(Tag.RESUME, v ? 1 : 0)),
      ]),
    ),
  helloAck: (ack: HelloAck): Frame =>
    frame(
      MessageType.HELLO_ACK,
      0,
      encodeFields([
        u32(Tag.VERSION, ack.version),
        str(Tag.AGENT_VERSION, ack.agentVersion),
        str(Tag.KERNEL_RELEASE, ack.kernelRelease),
        u32(Tag.MAX_BODY, ack.maxBody),
        str(Tag.MODE, ack.mode),
      ]),
    ),
  exec: (stream: number, request: ExecRequest): Frame =>
    frame(
      MessageType.EXEC,
      stream,
      encodeFields([
        ...(request.args ?? []).map((arg) => str(Tag.ARG, arg)),
        ...optional(request.shell, (v) => str(Tag.SHELL, v)),
        ...(request.env ?? []).map((entry) => str(Tag.ENV, entry)),
        ...optional(request.cwd, (v) => str(Tag.CWD, v)),
        ...optional(request.timeoutMs, (v) => u32(Tag.TIMEOUT_MS, v)),
        ...optional(request.stdin, (v) => u32(Tag.STDIN, v ? 1 : 0)),
        ...optional(request.pty, (v) => u32(Tag.PTY_COLS, v.cols)),
        ...optional(request.pty, (v) => u32(Tag.PTY_ROWS, v.rows)),
        ...optional(request.user, (v) => u32(Tag.UID, v.uid)),
        ...optional(request.user, (v) => u32(Tag.GID, v.gid)),
      ]),
    ),
  stdin: (stream: number, data: Buffer, end = false): Frame =>
    frame(MessageType.STDIN, stream, data, end ? FLAG_END : 0),
  signal: (stream: number, signo: number): Frame =>
    frame(MessageType.SIGNAL, stream, encodeFields([u32(Tag.SIGNO, signo)])),
  resize: (stream: number, size: { cols: number; rows: number }): Frame =>
    frame(MessageType.RESIZE, stream, encodeFields([u32(Tag.COLS, size.cols), u32(Tag.ROWS, size.rows)])),
  started: (stream: number, pid: number): Frame =>
    frame(MessageType.STARTED, stream, encodeFields([u32(Tag.PID, pid)])),
  stdout: (stream: number, data: Buffer, end = false): Frame =>
    frame(MessageType.STDOUT, stream, data, end ? FLAG_END : 0),
  stderr: (stream: number, data: Buffer): Frame => frame(MessageType.STDERR, stream, data),
  exit: (stream: number, status: ExitStatus): Frame =>
    frame(
      MessageType.EXIT,
      stream,
      encodeFields([
        i32(Tag.EXIT_CODE, status.exitCode),
        u32(Tag.SIGNAL, status.signal),
        u32(Tag.TIMED_OUT, status.timedOut ? 1 : 0),
        u32(Tag.DURATION_MS, status.durationMs),
      ]),
    ),
  connect: (stream: number, port: number): Frame =>
    frame(MessageType.CONNECT, stream, encodeFields([u32(Tag.PORT, port)])),
  connected: (stream: number): Frame => frame(MessageType.CONNECTED, stream, Buffer.alloc(0)),
  ack: (stream: number, bytes: number): Frame =>
    frame(MessageType.ACK, stream, encodeFields([u32(Tag.ACK_BYTES, bytes)])),
  closed: (stream: number, closed: Closed = {}): Frame =>
    frame(MessageType.CLOSED, stream, encodeFields(optional(closed.error, (v) => str(Tag.CLOSE_ERROR, v)))),
  error: (stream: number, error: ErrorMessage): Frame =>
    frame(
      MessageType.ERROR,
      stream,
      encodeFields([str(Tag.ERROR_CODE, error.code), str(Tag.ERROR_MESSAGE, error.message)]),
    ),
  ping: (stream: number, data: Buffer): Frame => frame(MessageType.PING, stream, data),
  pong: (stream: number, data: Buffer): Frame => frame(MessageType.PONG, stream, data),
  identify(identity: Identity): Frame {
    checkIdentity(identity);
    return frame(
      MessageType.IDENTIFY,
      0,
      encodeFields([
        str(Tag.HOSTNAME, identity.hostname),
        str(Tag.MACHINE_ID, identity.machineId),
        { tag: Tag.ENTROPY, value: identity.entropy },
        ...optional(identity.workspaceDevice, (v) => str(Tag.WORKSPACE_DEVICE, v)),
      ]),
    );
  },
  identified: (): Frame => frame(MessageType.IDENTIFIED, 0, Buffer.alloc(0)),
  quiesce: (): Frame => frame(MessageType.QUIESCE, 0, Buffer.alloc(0)),
  quiesced: (): Frame => frame(MessageType.QUIESCED, 0, Buffer.alloc(0)),
  /** The agent thaws by itself after timeoutMs (1..30000; longer is capped by the agent). */
  freeze: (timeoutMs: number): Frame =>
    frame(MessageType.FREEZE, 0, encodeFields([u32(Tag.TIMEOUT_MS, timeoutMs)])),
  frozen: (): Frame => frame(MessageType.FROZEN, 0, Buffer.alloc(0)),
  thaw: (): Frame => frame(MessageType.THAW, 0, Buffer.alloc(0)),
  thawed: (): Frame => frame(MessageType.THAWED, 0, Buffer.alloc(0)),
  shutdown: (): Frame => frame(MessageType.SHUTDOWN, 0, Buffer.alloc(0)),
  shutdownAck: (): Frame => frame(MessageType.SHUTDOWN_ACK, 0, Buffer.alloc(0)),
};

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new FrameError("BAD_MESSAGE", `missing field ${what}`);
  return value;
}

export const decode = {
  hello(body: Buffer): Hello {
    const r = FieldReader.of(body);
    const hello: Hello = { version: required(r.u32(Tag.VERSION), "version") };
    const client = r.str(Tag.CLIENT);
    const hostTimeMs = r.u64(Tag.HOST_TIME_MS);
    const resume = r.u32(Tag.RESUME);
    if (resume !== undefined && resume > 1) throw new FrameError("BAD_MESSAGE", "resume must be 0 or 1");
    if (client !== undefined) hello.client = client;
    if (hostTimeMs !== undefined) hello.hostTimeMs = hostTimeMs;
    if (resume !== undefined) hello.resume = resume === 1;
    return hello;
  },
  identify(body: Buffer): Identity {
    const r = FieldReader.of(body);
    const text = (tag: number, what: string): string | undefined => {
      const value = single(r, tag, what);
      if (value === undefined) return undefined;
      // Only ASCII passes checkIdentity, so a lossy UTF-8 decoding of other bytes is refused there.
      return value.toString("latin1");
    };
    const identity: Identity = {
      hostname: required(text(Tag.HOSTNAME, "hostname"), "hostname"),
      machineId: required(text(Tag.MACHINE_ID, "machine_id"), "machine_id"),
      entropy: Buffer.from(required(single(r, Tag.ENTROPY, "entropy"), "entropy")),
    };
    const device = text(Tag.WORKSPACE_DEVICE, "workspace_device");
    if (device !== undefined) identity.workspaceDevice = device;
    checkIdentity(identity);
    return identity;
  },
  freeze(body: Buffer): number {
    const r = FieldReader.of(body);
    const raw = single(r, Tag.TIMEOUT_MS, "timeout_ms");
    const timeoutMs = required(raw === undefined ? undefined : r.u32(Tag.TIMEOUT_MS), "timeout_ms");
    if (timeoutMs === 0) throw new FrameError("BAD_MESSAGE", "timeout_ms must be at least 1");
    return timeoutMs;
  },
  helloAck(body: Buffer): HelloAck {
    const r = FieldReader.of(body);
    const mode = r.str(Tag.MODE);
    if (mode !== "guest" && mode !== "host")
      throw new FrameError("BAD_MESSAGE", "mode must be guest or host");
    return {
      version: required(r.u32(Tag.VERSION), "version"),
      agentVersion: required(r.str(Tag.AGENT_VERSION), "agent_version"),
      kernelRelease: required(r.str(Tag.KERNEL_RELEASE), "kernel_release"),
      maxBody: required(r.u32(Tag.MAX_BODY), "max_body"),
      mode,
    };
  },
  exec(body: Buffer): ExecRequest {
    const r = FieldReader.of(body);
    const request: ExecRequest = {};
    const args = r.strs(Tag.ARG);
    const env = r.strs(Tag.ENV);
    const shell = r.str(Tag.SHELL);
    const cwd = r.str(Tag.CWD);
    const timeoutMs = r.u32(Tag.TIMEOUT_MS);
    const stdin = r.u32(Tag.STDIN);
    if (args.length > 0) request.args = args;
    if (shell !== undefined) request.shell = shell;
    if (env.length > 0) request.env = env;
    if (cwd !== undefined) request.cwd = cwd;
    if (timeoutMs !== undefined) request.timeoutMs = timeoutMs;
    if (stdin !== undefined) request.stdin = stdin === 1;
    const cols = r.u32(Tag.PTY_COLS);
    const rows = r.u32(Tag.PTY_ROWS);
    if (cols !== undefined && rows !== undefined) request.pty = { cols, rows };
    const uid = r.u32(Tag.UID);
    const gid = r.u32(Tag.GID);
    if (uid !== undefined && gid !== undefined) request.user = { uid, gid };
    return request;
  },
  signal: (body: Buffer): number => required(FieldReader.of(body).u32(Tag.SIGNO), "signo"),
  resize(body: Buffer): { cols: number; rows: number } {
    const r = FieldReader.of(body);
    return { cols: required(r.u32(Tag.COLS), "cols"), rows: required(r.u32(Tag.ROWS), "rows") };
  },
  started: (body: Buffer): number => required(FieldReader.of(body).u32(Tag.PID), "pid"),
  exit(body: Buffer): ExitStatus {
    const r = FieldReader.of(body);
    return {
      exitCode: required(r.i32(Tag.EXIT_CODE), "exit_code"),
      signal: r.u32(Tag.SIGNAL) ?? 0,
      timedOut: (r.u32(Tag.TIMED_OUT) ?? 0) === 1,
      durationMs: r.u32(Tag.DURATION_MS) ?? 0,
    };
  },
  connect: (body: Buffer): number => required(FieldReader.of(body).u32(Tag.PORT), "port"),
  closed(body: Buffer): Closed {
    const error = FieldReader.of(body).str(Tag.CLOSE_ERROR);
    return error === undefined ? {} : { error };
  },
  error(body: Buffer): ErrorMessage {
    const r = FieldReader.of(body);
    return { code: r.str(Tag.ERROR_CODE) ?? "UNKNOWN", message: r.str(Tag.ERROR_MESSAGE) ?? "" };
  },
};
