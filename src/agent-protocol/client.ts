import type { Duplex } from "node:stream";
import { PyroError } from "../errors/index.js";
import { MAX_BODY, MessageType } from "./constants.js";
import { FrameChannel } from "./channel.js";
import { FrameError, type Frame } from "./frame.js";
import { decode, encode, type ExecRequest, type ExitStatus, type HelloAck } from "./messages.js";
import { OpeningSession, StreamTable } from "./session.js";

export interface ExecHandlers {
  /** Output chunks as they arrive. A returned promise pauses the channel until it settles. */
  onStdout?(chunk: Buffer): void | Promise<void>;
  onStderr?(chunk: Buffer): void | Promise<void>;
  onStarted?(pid: number): void;
}

export interface ExecResult extends ExitStatus {
  pid: number | null;
}

interface PendingStream {
  handlers: ExecHandlers;
  pid: number | null;
  resolve(result: ExecResult): void;
  reject(error: Error): void;
  /** Single-frame answers (the stream ends with them). */
  onPong?(body: Buffer): void;
  onControlReply?(body: Buffer): void;
  /** A raw stream (file operations): every frame goes here; true ends the stream. */
  onFrame?(frame: Frame): boolean;
}

export interface ConnectOptions {
  client: string;
  timeoutMs?: number;
  /** Sets the guest clock (the agent ignores it in host mode). */
  sendTime?: boolean;
}

/** The host half of the agent protocol over any byte stream: handshake, exec streams, ping, shutdown. */
export class AgentClient {
  private readonly streams = new StreamTable<PendingStream>();
  private failure: PyroError | null = null;
  private readonly channel: FrameChannel;
  private readonly session: OpeningSession;
  private readonly closeListeners: Array<(error: PyroError | null) => void> = [];

  private constructor(stream: Duplex) {
    this.channel = new FrameChannel(stream, {
      onFrame: (frame) => this.dispatch(frame),
      onProtocolError: (error) => {
        this.failure = new PyroError("PROTOCOL_ERROR", `agent protocol error: ${error.message}`, {
          cause: error,
        });
      },
      onClose: () => this.closed(),
    });
    // An ERROR on stream 0 ends the connection: the peer refused the session or gave up on it.
    this.session = new OpeningSession(this.channel, (error) => {
      this.failure = agentError(error.code, error.message);
      this.channel.close();
    });
  }

  static async connect(stream: Duplex, options: ConnectOptions): Promise<AgentClient> {
    const client = new AgentClient(stream);
    await client.handshake(options);
    return client;
  }

  get info(): HelloAck {
    const ack = this.session.peer;
    if (ack === null) throw new PyroError("INTERNAL", "handshake not finished");
    return ack;
  }

  get isClosed(): boolean {
    return this.channel.isClosed;
  }

  onClose(listener: (error: PyroError | null) => void): void {
    this.closeListeners.push(listener);
  }

  /** Runs one command; resolves with its exit status (a non-zero exit is a result, not an error). */
  exec(request: ExecRequest, handlers: ExecHandlers = {}): { stream: number; result: Promise<ExecResult> } {
    let settle!: Pick<PendingStream, "resolve" | "reject">;
    const result = new Promise<ExecResult>((resolve, reject) => (settle = { resolve, reject }));
    const stream = this.open({ handlers, pid: null, ...settle });
    this.sendOrFail(encode.exec(stream, request));
    return { stream, result };
  }

  signal(stream: number, signo: number): void {
    if (this.streams.has(stream)) this.channel.send(encode.signal(stream, signo));
  }

  /**
   * Streams a command's stdin from any byte source, in frames of at most MAX_BODY, waiting for the
   * channel to drain so a large input is never buffered whole; ends the child's stdin at the end.
   */
  async pipeStdin(stream: number, source: AsyncIterable<Buffer | Uint8Array | string>): Promise<void> {
    for await (const piece of source) {
      const data =
        typeof piece === "string"
          ? Buffer.from(piece)
          : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
      for (let offset = 0; offset < data.length; offset += MAX_BODY) {
        if (!this.streams.has(stream)) return; // the command ended; the rest has nowhere to go
        if (!this.channel.send(encode.stdin(stream, data.subarray(offset, offset + MAX_BODY)))) {
          await this.channel.drained();
        }
      }
    }
    if (this.streams.has(stream)) this.channel.send(encode.stdin(stream, Buffer.alloc(0), true));
  }

  /** Round trip of raw bytes through the channel, without starting a process. */
  ping(data: Buffer): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      const stream = this.open({
        handlers: {},
        pid: null,
        resolve: () => undefined,
        reject,
        onPong: resolve,
      });
      this.sendOrFail(encode.ping(stream, data));
    });
  }

  /** One request to the VM's supervisor (see runtime/control.ts); resolves with its reply body. */
  control(body: Buffer): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      const stream = this.open({
        handlers: {},
        pid: null,
        resolve: () => undefined,
        reject,
        onControlReply: resolve,
      });
      this.sendOrFail({ type: MessageType.CONTROL, stream, flags: 0, body });
    });
  }

  /**
   * Opens a stream whose frames all go to `onFrame` (see file-ops.ts) until it returns true;
   * `onFail` hears of a closed or broken connection. Frames for it go out with `send`.
   */
  openStream(onFrame: (frame: Frame) => boolean, onFail: (error: Error) => void): number {
    return this.open({ handlers: {}, pid: null, resolve: () => undefined, reject: onFail, onFrame });
  }

  /** Sends one frame; false when the caller should wait for `drained()`. */
  send(frame: Frame): boolean {
    if (this.channel.send(frame)) return true;
    if (this.channel.isClosed) this.closed();
    return false;
  }

  drained(): Promise<void> {
    return this.channel.drained();
  }

  resize(stream: number, size: { cols: number; rows: number }): void {
    if (this.streams.has(stream)) this.channel.send(encode.resize(stream, size));
  }

  /** Asks the other side to shut down (the agent powers the VM off; a supervisor stops its VM). */
  shutdown(timeoutMs: number): Promise<boolean> {
    return this.session.shutdown(timeoutMs);
  }

  close(): void {
    this.channel.close();
  }

  private async handshake(options: ConnectOptions): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    try {
      await this.session.hello({
        client: options.client,
        ...(options.sendTime ? { hostTimeMs: Date.now() } : {}),
        timeoutMs,
        timeoutError: () =>
          new PyroError("AGENT_UNREACHABLE", `no handshake from the agent within ${timeoutMs} ms`),
      });
    } catch (error) {
      this.channel.close();
      throw error;
    }
  }

  /** Opens a stream for `pending`; throws when the connection is already gone. */
  private open(pending: PendingStream): number {
    if (this.failure !== null) throw this.failure;
    if (this.channel.isClosed) throw new PyroError("AGENT_UNREACHABLE", "the agent connection is closed");
    return this.streams.add(pending);
  }

  private sendOrFail(frame: Frame): void {
    if (!this.channel.send(frame) && this.channel.isClosed) {
      this.closed();
    }
  }

  private dispatch(frame: Frame): void {
    if (frame.stream === 0) return this.session.onFrame(frame);
    const pending = this.streams.get(frame.stream);
    if (pending === undefined) {
      // A late frame for a stream we gave up on (for example after a client-side cancel) is harmless.
      if (frame.type === MessageType.STDOUT || frame.type === MessageType.STDERR) return;
      if (frame.type === MessageType.EXIT || frame.type === MessageType.ERROR) return;
      throw new FrameError(
        "BAD_MESSAGE",
        `frame type 0x${frame.type.toString(16)} for unknown stream ${frame.stream}`,
      );
    }
    if (pending.onFrame !== undefined) {
      if (pending.onFrame(frame)) this.streams.delete(frame.stream);
      return;
    }
    switch (frame.type) {
      case MessageType.STARTED:
        pending.pid = decode.started(frame.body);
        pending.handlers.onStarted?.(pending.pid);
        return;
      case MessageType.STDOUT:
        return this.deliver(pending.handlers.onStdout, frame.body);
      case MessageType.STDERR:
        return this.deliver(pending.handlers.onStderr, frame.body);
      case MessageType.EXIT: {
        const status = decode.exit(frame.body);
        this.streams.delete(frame.stream);
        pending.resolve({ ...status, pid: pending.pid });
        return;
      }
      case MessageType.PONG:
        if (pending.onPong === undefined) throw new FrameError("BAD_MESSAGE", "unexpected PONG");
        this.streams.delete(frame.stream);
        pending.onPong(frame.body);
        return;
      case MessageType.CONTROL_REPLY:
        if (pending.onControlReply === undefined)
          throw new FrameError("BAD_MESSAGE", "unexpected CONTROL_REPLY");
        this.streams.delete(frame.stream);
        pending.onControlReply(frame.body);
        return;
      case MessageType.ERROR: {
        const error = decode.error(frame.body);
        this.streams.delete(frame.stream);
        pending.reject(agentError(error.code, error.message));
        return;
      }
      default:
        throw new FrameError(
          "BAD_MESSAGE",
          `unexpected frame type 0x${frame.type.toString(16)} from the agent`,
        );
    }
  }

  private deliver(handler: ((chunk: Buffer) => void | Promise<void>) | undefined, chunk: Buffer): void {
    // An empty chunk carries nothing; passed on, a flood of them would queue one entry each in
    // whatever the handler writes to (a terminal, a pipe, an archive stream).
    if (chunk.length === 0) return;
    const pending = handler?.(chunk);
    if (pending instanceof Promise) {
      this.channel.pause();
      void pending.finally(() => this.channel.resume());
    }
  }

  private closed(): void {
    const error =
      this.failure ?? new PyroError("AGENT_UNREACHABLE", "the connection to the agent closed unexpectedly");
    this.session.end(error);
    for (const pending of this.streams.drain()) pending.reject(error);
    for (const listener of this.closeListeners.splice(0)) listener(this.failure);
  }
}

/** Maps an agent-side error code onto pyro's catalog. */
function agentError(code: string, message: string): PyroError {
  if (code === "CWD_NOT_FOUND") return new PyroError("CWD_NOT_FOUND", message);
  if (code === "PROTOCOL_ERROR") return new PyroError("PROTOCOL_ERROR", message);
  if (code === "BAD_FRAME" || code === "BAD_MESSAGE" || code === "VERSION_MISMATCH") {
    return new PyroError("PROTOCOL_ERROR", `${code}: ${message}`);
  }
  if (code === "VM_EXITED") return new PyroError("VM_NOT_RUNNING", message);
  return new PyroError("EXEC_FAILED", `${code}: ${message}`, { details: { agent_code: code } });
}
