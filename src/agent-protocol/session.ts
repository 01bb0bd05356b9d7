import { PyroError } from "../errors/index.js";
import { MessageType, PROTOCOL_VERSION, type MessageTypeCode } from "./constants.js";
import type { FrameChannel } from "./channel.js";
import { FrameError, type Frame } from "./frame.js";
import { decode, encode, type ErrorMessage, type Hello, type HelloAck, type Identity } from "./messages.js";

/**
 * The session layer of the protocol (docs/protocol.md, "Behaviour"): the handshake, shutdown and
 * stream ids. One implementation for every connection pyro holds: a client to a supervisor or
 * agent, the supervisor to its agent (both open sessions), and the supervisor to its local
 * clients (it accepts them).
 */

/** Stream ids one side opens, with what it keeps per open stream. Ids are never 0 (the connection) nor one still open. */
export class StreamTable<T> {
  private readonly open = new Map<number, T>();
  private next = 1;

  /** Takes the next free id (wrapping at 2^32) for `entry`. */
  add(entry: T): number {
    while (this.open.has(this.next) || this.next === 0) this.next = (this.next + 1) >>> 0;
    const id = this.next;
    this.next = (this.next + 1) >>> 0;
    this.open.set(id, entry);
    return id;
  }

  get(id: number): T | undefined {
    return this.open.get(id);
  }

  /** Where `add` looks for a free id next: carried across a supervisor's pause so ids are not reused. */
  get nextId(): number {
    return this.next;
  }

  /** The open ids. */
  ids(): number[] {
    return [...this.open.keys()];
  }

  /** Takes a given id again (a stream restored after a pause). */
  restore(id: number, entry: T): void {
    this.open.set(id, entry);
  }

  /** `add` continues from `next` (the exported `nextId`), so ids given out before a pause are not reused. */
  resumeAt(next: number): void {
    this.next = next >>> 0;
  }

  has(id: number): boolean {
    return this.open.has(id);
  }

  /** The stream ended; its id is free again. */
  delete(id: number): boolean {
    return this.open.delete(id);
  }

  /** Ends every stream, returning what was kept for them. */
  drain(): T[] {
    const entries = [...this.open.values()];
    this.open.clear();
    return entries;
  }

  get size(): number {
    return this.open.size;
  }
}

export interface HelloOptions {
  client: string;
  /** Sets the guest clock (the agent ignores it in host mode). */
  hostTimeMs?: number;
  /** Keep the agent's running session (after a restore, or to end a QUIESCE); default: a new session. */
  resume?: boolean;
  /** How long the peer has to answer, and the error when it does not. */
  timeoutMs: number;
  timeoutError(): Error;
}

/** A stream-0 request waiting for its reply; the agent answers them in order. */
interface ControlWaiter {
  name: string;
  reply: MessageTypeCode;
  /** Timed out: its late reply (or ERROR) is still consumed in its turn, then dropped. */
  abandoned: boolean;
  resolve(): void;
  reject(error: Error): void;
}

/** ERROR codes that end the connection rather than answer one request. */
const CONNECTION_ERRORS = new Set(["BAD_FRAME", "BAD_MESSAGE", "VERSION_MISMATCH"]);

/**
 * The side that opens a connection: says HELLO and checks the version of the HELLO_ACK, asks for
 * SHUTDOWN. Its owner passes every stream-0 frame to `onFrame` and says when the connection ends.
 */
export class OpeningSession {
  private ack: HelloAck | null = null;
  private helloWaiter: { resolve(ack: HelloAck): void; reject(error: Error): void } | null = null;
  private readonly shutdownWaiters = new Set<() => void>();
  private readonly controlWaiters: ControlWaiter[] = [];
  private endedWith: Error | null = null;

  /** `onError`: an ERROR on stream 0 (the peer gave up on the connection); it may throw a FrameError. */
  constructor(
    private readonly channel: FrameChannel,
    private readonly onError: (error: ErrorMessage) => void,
  ) {}

  /** The peer's HELLO_ACK, once the handshake finished. */
  get peer(): HelloAck | null {
    return this.ack;
  }

  /** Sends HELLO; resolves with the peer's HELLO_ACK, or rejects on a timeout or when the connection ends. */
  hello(options: HelloOptions): Promise<HelloAck> {
    if (this.endedWith !== null) return Promise.reject(this.endedWith);
    if (this.helloWaiter !== null) return Promise.reject(new Error("a handshake is already under way"));
    return new Promise<HelloAck>((resolve, reject) => {
      const timer = setTimeout(() => settle(() => reject(options.timeoutError())), options.timeoutMs);
      const settle = (then: () => void): void => {
        clearTimeout(timer);
        this.helloWaiter = null;
        then();
      };
      this.helloWaiter = {
        resolve: (ack) => settle(() => resolve(ack)),
        reject: (error) => settle(() => reject(error)),
      };
      const hello: Hello = { version: PROTOCOL_VERSION, client: options.client };
      if (options.hostTimeMs !== undefined) hello.hostTimeMs = options.hostTimeMs;
      if (options.resume === true) hello.resume = true;
      this.channel.send(encode.hello(hello));
    });
  }

  /** IDENTIFY: fresh entropy, hostname and machine id for the guest, and its workspace disk mounted. */
  identify(identity: Identity, timeoutMs: number): Promise<void> {
    let frame: Frame;
    try {
      frame = encode.identify(identity);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return Promise.reject(new PyroError("INVALID_ARGUMENT", `IDENTIFY: ${message}`));
    }
    return this.request("IDENTIFY", frame, MessageType.IDENTIFIED, timeoutMs);
  }

  /**
   * QUIESCE: the agent syncs its disks, answers, and then sends nothing at all (its commands keep
   * running) until the next frame from this side, normally `hello({ resume: true })`.
   */
  quiesce(timeoutMs: number): Promise<void> {
    return this.request("QUIESCE", encode.quiesce(), MessageType.QUIESCED, timeoutMs);
  }

  /** FREEZE /workspace (a mount point, else NOT_A_MOUNT); the agent thaws it itself after `timeoutMs` (at most 30 s). */
  freeze(timeoutMs: number): Promise<void> {
    return this.request("FREEZE", encode.freeze(timeoutMs), MessageType.FROZEN, timeoutMs);
  }

  thaw(timeoutMs: number): Promise<void> {
    return this.request("THAW", encode.thaw(), MessageType.THAWED, timeoutMs);
  }

  private request(name: string, frame: Frame, reply: MessageTypeCode, timeoutMs: number): Promise<void> {
    if (this.endedWith !== null) return Promise.reject(this.endedWith);
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (then: () => void): void => {
        clearTimeout(timer);
        const at = this.controlWaiters.indexOf(waiter);
        if (at >= 0) this.controlWaiters.splice(at, 1);
        if (!settled) then();
        settled = true;
      };
      const timer = setTimeout(() => {
        waiter.abandoned = true;
        settled = true;
        reject(
          new PyroError("AGENT_UNREACHABLE", `the guest agent did not answer ${name} within ${timeoutMs} ms`),
        );
      }, timeoutMs);
      const waiter: ControlWaiter = {
        name,
        reply,
        abandoned: false,
        resolve: () => settle(resolve),
        reject: (error) => settle(() => reject(error)),
      };
      this.controlWaiters.push(waiter);
      this.channel.send(frame);
    });
  }

  /** The reply to the oldest request; a reply nobody asked for (or out of order) breaks the protocol. */
  private replied(type: MessageTypeCode): void {
    const waiter = this.controlWaiters[0];
    if (waiter === undefined || (waiter.reply !== type && !waiter.abandoned))
      throw new FrameError("BAD_MESSAGE", `unexpected reply 0x${type.toString(16)} on stream 0`);
    waiter.resolve();
  }

  /** Asks the peer to shut down: true once it acknowledged or the connection ended, false after `timeoutMs`. */
  shutdown(timeoutMs: number): Promise<boolean> {
    if (this.endedWith !== null) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const done = (acked: boolean): void => {
        clearTimeout(timer);
        this.shutdownWaiters.delete(finish);
        resolve(acked);
      };
      const finish = (): void => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      timer.unref();
      this.shutdownWaiters.add(finish);
      this.channel.send(encode.shutdown());
    });
  }

  /** A frame on stream 0. Throws FrameError for one that does not belong there. */
  onFrame(frame: Frame): void {
    switch (frame.type) {
      case MessageType.HELLO_ACK: {
        if (this.helloWaiter === null) throw new FrameError("BAD_MESSAGE", "unexpected HELLO_ACK");
        const ack = decode.helloAck(frame.body);
        if (ack.version !== PROTOCOL_VERSION)
          throw new FrameError(
            "BAD_MESSAGE",
            `agent speaks version ${ack.version}, expected ${PROTOCOL_VERSION}`,
          );
        this.ack = ack;
        this.helloWaiter.resolve(ack);
        return;
      }
      case MessageType.SHUTDOWN_ACK:
        for (const finish of [...this.shutdownWaiters]) finish();
        return;
      case MessageType.IDENTIFIED:
      case MessageType.QUIESCED:
      case MessageType.FROZEN:
      case MessageType.THAWED:
        return this.replied(frame.type);
      case MessageType.ERROR: {
        const error = decode.error(frame.body);
        const waiter = this.controlWaiters[0];
        // Guest text in an error: bounded like every other guest string the host repeats.
        if (waiter?.abandoned === true) waiter.resolve();
        else if (waiter !== undefined)
          waiter.reject(
            new PyroError(
              "INTERNAL",
              `${waiter.name} failed: ${error.code}: ${error.message.slice(0, 500)}`,
              {
                details: { agent_code: error.code.slice(0, 64) },
              },
            ),
          );
        if (waiter === undefined || CONNECTION_ERRORS.has(error.code)) this.onError(error);
        return;
      }
      default:
        throw new FrameError("BAD_MESSAGE", `unexpected frame type 0x${frame.type.toString(16)} on stream 0`);
    }
  }

  /** The connection ended (or failed with `error`): a handshake under way fails, a shutdown is done. */
  end(error: Error): void {
    this.endedWith ??= error;
    this.helloWaiter?.reject(error);
    for (const waiter of [...this.controlWaiters]) waiter.reject(error);
    for (const finish of [...this.shutdownWaiters]) finish();
  }
}

/**
 * The side that accepts connections (a supervisor toward its local clients): HELLO first, with
 * the version checked, answered with `ack`; SHUTDOWN handed to `onShutdown`.
 */
export class AcceptingSession {
  private greeted = false;

  constructor(
    private readonly channel: FrameChannel,
    private readonly events: {
      /** What this side answers a HELLO with. */
      ack(): HelloAck;
      /** The client asked to shut down; SHUTDOWN_ACK goes out once this settles. */
      onShutdown(): Promise<void>;
    },
  ) {}

  /**
   * Takes the session's own frames (HELLO, SHUTDOWN, anything on stream 0) and returns true for
   * them; false for a stream frame of a greeted client. Throws FrameError for a frame before
   * HELLO or one that does not belong on stream 0.
   */
  onFrame(frame: Frame): boolean {
    if (frame.type === MessageType.HELLO) {
      const hello = decode.hello(frame.body);
      if (hello.version !== PROTOCOL_VERSION) {
        this.channel.closeWith(
          encode.error(0, { code: "VERSION_MISMATCH", message: `speaks ${PROTOCOL_VERSION}` }),
        );
        return true;
      }
      // A second HELLO is answered again, as the agent does.
      this.greeted = true;
      this.channel.send(encode.helloAck(this.events.ack()));
      return true;
    }
    if (!this.greeted) throw new FrameError("BAD_MESSAGE", "HELLO must come first");
    if (frame.type === MessageType.SHUTDOWN) {
      void this.events.onShutdown().then(() => this.channel.send(encode.shutdownAck()));
      return true;
    }
    if (frame.stream === 0)
      throw new FrameError("BAD_MESSAGE", `unexpected frame type 0x${frame.type.toString(16)} on stream 0`);
    return false;
  }
}
