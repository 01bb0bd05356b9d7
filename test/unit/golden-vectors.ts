import { encode } from "../../src/agent-protocol/messages.js";
import type { Frame } from "../../src/agent-protocol/frame.js";

/** What each valid golden vector in protocol/golden/frames.txt means (see docs/protocol.md). */
export const VALID_VECTORS: Record<string, Frame> = {
  hello: encode.hello({ version: 1, client: "pyro-test", hostTimeMs: 1_700_000_000_000 }),
  hello_ack: encode.helloAck({
    version: 1,
    agentVersion: "0.1.0",
    kernelRelease: "6.1.0-test-cloud-amd64",
    maxBody: 65536,
    mode: "guest",
  }),
  ping: encode.ping(0, Buffer.from([0, 1, 2, 0xff])),
  pong: encode.pong(0, Buffer.from([0, 1, 2, 0xff])),
  shutdown: encode.shutdown(),
  shutdown_ack: encode.shutdownAck(),
  exec_argv: encode.exec(1, {
    args: ["git", "--version"],
    env: ["HOME=/root", "PATH=/usr/bin:/bin"],
    cwd: "/workspace",
    timeoutMs: 30000,
  }),
  exec_shell: encode.exec(2, { shell: "echo hi >&2", cwd: "/", timeoutMs: 0, stdin: true }),
  exec_pty: encode.exec(5, {
    shell: "exec bash -i",
    env: ["TERM=xterm-256color"],
    cwd: "/workspace",
    timeoutMs: 0,
    stdin: true,
    pty: { cols: 120, rows: 30 },
  }),
  resize: encode.resize(5, { cols: 80, rows: 24 }),
  stdin_data: encode.stdin(3, Buffer.from("abc")),
  stdin_end: encode.stdin(3, Buffer.alloc(0), true),
  signal: encode.signal(1, 15),
  started: encode.started(1, 42),
  stdout: encode.stdout(1, Buffer.from("git version 2.39.5\n")),
  stderr: encode.stderr(2, Buffer.from("hi\n")),
  exit_ok: encode.exit(1, { exitCode: 0, signal: 0, timedOut: false, durationMs: 95 }),
  exit_killed: encode.exit(2, { exitCode: -1, signal: 9, timedOut: true, durationMs: 30000 }),
  connect: encode.connect(6, 8080),
  connected: encode.connected(6),
  stdout_end: encode.stdout(6, Buffer.alloc(0), true),
  closed: encode.closed(6),
  closed_error: encode.closed(7, { error: "Connection reset by peer" }),
  error_stream: encode.error(4, { code: "CWD_NOT_FOUND", message: "no such directory: /nope" }),
  error_conn: encode.error(0, { code: "BAD_FRAME", message: "frame too large" }),
};
