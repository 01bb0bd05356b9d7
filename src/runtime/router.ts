import { MessageType } from "../agent-protocol/constants.js";
import type { FrameChannel } from "../agent-protocol/channel.js";
import { FrameError, type Frame } from "../agent-protocol/frame.js";
import { encode } from "../agent-protocol/messages.js";
import { StreamTable } from "../agent-protocol/session.js";

/** One local client of the supervisor. */
export interface ClientConnection {
  channel: FrameChannel;
}

interface Route {
  client: ClientConnection | null; // null once the client left: frames are swallowed until EXIT
  clientStream: number;
  isExec: boolean;
  /** A file operation (FS_* request): its replies end with FS_DONE or ERROR. */
  isFs?: boolean;
  /** A client's connection to a guest port (CONNECT): its replies end with CLOSED or ERROR. */
  isConnect?: boolean;
  /** Streams the supervisor runs itself (shells, services, published ports) get their frames here. */
  own?: (frame: Frame) => void;
  /** A stream open before a pause whose owner did not survive it: its frames are dropped until it ends. */
  orphan?: true;
}

const SIGKILL = 9;

/** What a guest may send on a stream, by what the stream carries; anything else is a forgery. */
const EXEC_REPLIES = new Set<number>([
  MessageType.STARTED,
  MessageType.STDOUT,
  MessageType.STDERR,
  MessageType.EXIT,
  MessageType.ERROR,
]);
const PING_REPLIES = new Set<number>([MessageType.PONG, MessageType.ERROR]);
const FS_REQUESTS = new Set<number>([
  MessageType.FS_LIST,
  MessageType.FS_READ,
  MessageType.FS_WRITE,
  MessageType.FS_MKDIR,
  MessageType.FS_REMOVE,
  MessageType.FS_RENAME,
  MessageType.FS_CHMOD,
  MessageType.FS_REALPATH,
  MessageType.FS_LINK,
]);
const FS_REPLIES = new Set<number>([
  MessageType.FS_ENTRIES,
  MessageType.FS_DATA,
  MessageType.FS_DONE,
  MessageType.ERROR,
]);
const CONNECT_REPLIES = new Set<number>([
  MessageType.CONNECTED,
  MessageType.STDOUT,
  MessageType.CLOSED,
  MessageType.ERROR,
]);
// The supervisor's own streams are commands (shells, services) or connections (published ports).
const OWN_REPLIES = new Set<number>([...EXEC_REPLIES, ...CONNECT_REPLIES]);
// An orphan was any kind of stream; the host no longer knows which.
const ORPHAN_REPLIES = new Set<number>([...OWN_REPLIES, ...PING_REPLIES, ...FS_REPLIES]);

/**
 * Multiplexes any number of clients onto the one agent channel: every client stream gets its own
 * guest stream id, and guest frames are routed back by that id.
 */
export class StreamRouter {
  /** Guest streams by id: the supervisor opens them, for its clients and for itself. */
  private readonly routes = new StreamTable<Route>();
  private readonly byClient = new Map<ClientConnection, Map<number, number>>();
  private holds = 0;
  private readonly congested = new Set<FrameChannel>();

  constructor(private readonly guest: FrameChannel) {}

  /** Forwards a client's stream frame to the guest. Throws FrameError when the client misbehaves. */
  fromClient(client: ClientConnection, frame: Frame): void {
    const streams = this.streamsOf(client);
    const existing = streams.get(frame.stream);
    // File requests open a stream like EXEC does; FS_DATA then follows it like STDIN.
    const type = FS_REQUESTS.has(frame.type) ? MessageType.EXEC : frame.type;
    switch (frame.type === MessageType.FS_DATA ? MessageType.STDIN : type) {
      case MessageType.EXEC:
      case MessageType.CONNECT:
      case MessageType.PING: {
        if (existing !== undefined) {
          client.channel.send(
            encode.error(frame.stream, { code: "STREAM_IN_USE", message: `stream ${frame.stream} is busy` }),
          );
          return;
        }
        const guestStream = this.routes.add({
          client,
          clientStream: frame.stream,
          isExec: frame.type === MessageType.EXEC,
          isFs: FS_REQUESTS.has(frame.type),
          isConnect: frame.type === MessageType.CONNECT,
        });
        streams.set(frame.stream, guestStream);
        this.toGuest(client, { ...frame, stream: guestStream });
        return;
      }
      case MessageType.STDIN:
      case MessageType.SIGNAL:
      case MessageType.ACK:
        if (existing === undefined) {
          client.channel.send(
            encode.error(frame.stream, { code: "UNKNOWN_STREAM", message: `no stream ${frame.stream}` }),
          );
          return;
        }
        this.toGuest(client, { ...frame, stream: existing });
        return;
      default:
        throw new FrameError(
          "BAD_MESSAGE",
          `clients may not send frame type 0x${frame.type.toString(16)} on a stream`,
        );
    }
  }

  /** Routes a guest frame for stream N ≥ 1 back to its client. Throws FrameError on a frame for no stream. */
  fromGuest(frame: Frame): void {
    const route = this.routes.get(frame.stream);
    // An ERROR may answer a SIGNAL that crossed the command's EXIT; there is nothing left to tell.
    if (route === undefined && frame.type === MessageType.ERROR) return;
    if (route === undefined)
      throw new FrameError("BAD_MESSAGE", `guest frame for unknown stream ${frame.stream}`);
    const allowed =
      route.orphan === true
        ? ORPHAN_REPLIES
        : route.own !== undefined
          ? OWN_REPLIES
          : route.isFs === true
            ? FS_REPLIES
            : route.isConnect === true
              ? CONNECT_REPLIES
              : route.isExec
                ? EXEC_REPLIES
                : PING_REPLIES;
    if (!allowed.has(frame.type))
      throw new FrameError(
        "BAD_MESSAGE",
        `guest frame type 0x${frame.type.toString(16)} does not belong on stream ${frame.stream}`,
      );
    const final =
      frame.type === MessageType.EXIT ||
      frame.type === MessageType.ERROR ||
      frame.type === MessageType.PONG ||
      frame.type === MessageType.CLOSED ||
      frame.type === MessageType.FS_DONE;
    if (final) {
      this.routes.delete(frame.stream);
      if (route.client !== null) this.streamsOf(route.client).delete(route.clientStream);
    }
    if (route.own !== undefined) {
      route.own(frame);
      return;
    }
    if (route.client === null || route.client.channel.isClosed) return;
    const channel = route.client.channel;
    if (!channel.send({ ...frame, stream: route.clientStream }) && !this.congested.has(channel)) {
      // Keep memory bounded: stop reading the guest until this client has taken its data. One hold
      // per congested client, not one per frame (a flood of tiny frames would pile up waiters).
      this.congested.add(channel);
      this.holdGuest(channel.drained().finally(() => this.congested.delete(channel)));
    }
  }

  /** A guest stream owned by the supervisor itself; its frames go to `onFrame` until EXIT, ERROR or CLOSED. */
  openOwnStream(onFrame: (frame: Frame) => void): number {
    return this.routes.add({ client: null, clientStream: 0, isExec: true, own: onFrame });
  }

  /** Takes back an own stream that was open before a pause (see SupervisorState). */
  restoreOwnStream(stream: number, onFrame: (frame: Frame) => void): void {
    this.routes.restore(stream, { client: null, clientStream: 0, isExec: true, own: onFrame });
  }

  /** Every open guest stream, and where id allocation continues: what a pause must carry. */
  openStreams(): { streams: number[]; next: number } {
    return { streams: this.routes.ids(), next: this.routes.nextId };
  }

  /**
   * Restores the rest of a paused supervisor's streams: `orphans` were open for clients and
   * connections that did not survive the pause (their frames are dropped until each ends), and
   * new ids continue from `next`.
   */
  restoreStreams(orphans: readonly number[], next: number): void {
    for (const stream of orphans)
      this.routes.restore(stream, { client: null, clientStream: 0, isExec: true, orphan: true });
    this.routes.resumeAt(next);
  }

  /** Asks the guest to end every orphaned stream (the agent answers each with its final frame). */
  endOrphans(): void {
    for (const stream of this.routes.ids())
      if (this.routes.get(stream)?.orphan === true) this.guest.send(encode.signal(stream, SIGKILL));
  }

  /** Returns false when the guest channel is congested (see `guestDrained`). */
  sendToGuest(frame: Frame): boolean {
    return this.guest.send(frame);
  }

  guestDrained(): Promise<void> {
    return this.guest.drained();
  }

  /** Stops reading the guest until `until` settles (nested holds resume after the last one). */
  private holdGuest(until: Promise<void>): void {
    if (this.holds++ === 0) this.guest.pause();
    const release = (): void => {
      if (--this.holds === 0) this.guest.resume();
    };
    void until.then(release, release);
  }

  /** A client went away: its running commands are killed, their remaining output discarded. */
  dropClient(client: ClientConnection): void {
    const streams = this.byClient.get(client);
    this.byClient.delete(client);
    if (streams === undefined) return;
    for (const guestStream of streams.values()) {
      const route = this.routes.get(guestStream);
      if (route === undefined) continue;
      route.client = null;
      // A SIGNAL also abandons a file write still receiving data (the agent answers ERROR).
      // A SIGNAL aborts a connection too (the agent answers CLOSED).
      if (route.isExec || route.isFs === true || route.isConnect === true)
        this.guest.send(encode.signal(guestStream, SIGKILL));
    }
  }

  get activeStreams(): number {
    return this.routes.size;
  }

  private toGuest(client: ClientConnection, frame: Frame): void {
    if (!this.guest.send(frame)) {
      client.channel.pause();
      void this.guest.drained().then(() => client.channel.resume());
    }
  }

  private streamsOf(client: ClientConnection): Map<number, number> {
    let streams = this.byClient.get(client);
    if (streams === undefined) {
      streams = new Map();
      this.byClient.set(client, streams);
    }
    return streams;
  }
}
