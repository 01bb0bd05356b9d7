import type { Socket } from "node:net";
import { FLAG_END, MAX_BODY, MessageType } from "../agent-protocol/constants.js";
import type { Frame } from "../agent-protocol/frame.js";
import { decode, encode } from "../agent-protocol/messages.js";
import type { StreamRouter } from "./router.js";

const ABORT_SIGNAL = 9;
/** The agent's FWD_WINDOW (guest/src/forward.h): unacknowledged bytes per connection. */
const FORWARD_WINDOW = 256 * 1024;

/**
 * One accepted TCP connection relayed to a guest port over its own guest stream: CONNECT, then
 * STDIN/STDOUT both ways with half-close, until CLOSED (docs/protocol.md, "Connections").
 */
export class PortRelay {
  private readonly stream: number;
  private open = true; // the guest stream is live: no CLOSED or ERROR seen, no abort sent
  private inputEnded = false; // the client's FIN went out as STDIN END
  private outputEnded = false; // the guest socket's EOF came as STDOUT END
  // Bytes waiting for the client to drain, kept in one buffer: a flood of tiny frames must not
  // become one pending socket write (and its bookkeeping) per frame.
  private backlog = Buffer.alloc(0);
  private backlogBytes = 0;

  constructor(
    private readonly router: StreamRouter,
    private readonly socket: Socket,
    guestPort: number,
  ) {
    socket.pause(); // nothing may reach the guest before CONNECTED
    socket.on("data", (chunk: Buffer) => this.toGuest(chunk));
    socket.on("end", () => this.endInput());
    socket.on("error", () => undefined); // "close" follows
    socket.on("close", () => {
      if (!(this.inputEnded && this.outputEnded)) this.abort();
    });
    this.stream = router.openOwnStream((frame) => this.fromGuest(frame));
    router.sendToGuest(encode.connect(this.stream, guestPort));
  }

  /** Resets the client's connection and aborts the guest's. */
  abort(): void {
    if (this.open) {
      this.open = false;
      this.router.sendToGuest(encode.signal(this.stream, ABORT_SIGNAL));
    }
    if (!this.socket.destroyed) this.socket.resetAndDestroy();
  }

  private toGuest(chunk: Buffer): void {
    if (!this.open) return;
    let congested = false;
    for (let offset = 0; offset < chunk.length; offset += MAX_BODY) {
      const piece = chunk.subarray(offset, offset + MAX_BODY);
      if (!this.router.sendToGuest(encode.stdin(this.stream, piece))) congested = true;
    }
    if (congested) {
      this.socket.pause();
      void this.router.guestDrained().then(() => {
        if (this.open) this.socket.resume();
      });
    }
  }

  private endInput(): void {
    this.inputEnded = true;
    if (this.open) this.router.sendToGuest(encode.stdin(this.stream, Buffer.alloc(0), true));
  }

  private write(bytes: Buffer): void {
    this.socket.write(bytes, () => {
      if (this.open) this.router.sendToGuest(encode.ack(this.stream, bytes.length));
    });
  }

  private hold(body: Buffer): void {
    if (this.backlogBytes === 0) this.socket.once("drain", () => this.release());
    if (this.backlogBytes + body.length > this.backlog.length) {
      const size = Math.max(2 * this.backlog.length, this.backlogBytes + body.length, 16 * 1024);
      const grown = Buffer.alloc(size);
      this.backlog.copy(grown, 0, 0, this.backlogBytes);
      this.backlog = grown;
    }
    body.copy(this.backlog, this.backlogBytes);
    this.backlogBytes += body.length;
  }

  /** Writes what was held back as one chunk, then the EOF that waited for it. */
  private release(): void {
    if (this.backlogBytes === 0 || this.socket.destroyed) return;
    // Handed over, not copied: the old buffer is never written again.
    const bytes = this.backlog.subarray(0, this.backlogBytes);
    this.backlog = Buffer.alloc(0);
    this.backlogBytes = 0;
    this.write(bytes);
    if (this.outputEnded) this.socket.end();
  }

  private fromGuest(frame: Frame): void {
    switch (frame.type) {
      case MessageType.CONNECTED:
        if (this.open) this.socket.resume();
        return;
      case MessageType.STDOUT:
        if (this.socket.destroyed) return;
        if (frame.body.length > 0) {
          // The agent sends at most a window of unacknowledged bytes, so a slow client holds up
          // only its own connection. A guest that ignores the window is cut off, not buffered.
          if (this.socket.writableLength + this.backlogBytes > 2 * FORWARD_WINDOW) return this.abort();
          if (this.socket.writableNeedDrain || this.backlogBytes > 0) this.hold(frame.body);
          else this.write(frame.body);
        }
        if ((frame.flags & FLAG_END) !== 0) {
          this.outputEnded = true;
          if (this.backlogBytes === 0) this.socket.end();
        }
        return;
      case MessageType.CLOSED:
      case MessageType.ERROR: {
        this.open = false;
        const clean =
          frame.type === MessageType.CLOSED &&
          decode.closed(frame.body).error === undefined &&
          this.inputEnded &&
          this.outputEnded;
        // A clean end lets buffered bytes reach the client; anything else resets it at once.
        if (clean) {
          this.release();
          this.socket.end(() => this.socket.destroy());
        } else if (!this.socket.destroyed) this.socket.resetAndDestroy();
        return;
      }
      default:
        return;
    }
  }
}
