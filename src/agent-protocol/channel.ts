import type { Duplex } from "node:stream";
import { encode } from "./messages.js";
import { FrameDecoder, FrameError, encodeFrame, type Frame } from "./frame.js";

export interface FrameChannelEvents {
  onFrame(frame: Frame): void;
  /** The peer broke the protocol; the channel is already closed. */
  onProtocolError(error: FrameError): void;
  onClose(): void;
}

/**
 * Frames over one byte stream. Decoding errors are terminal: the channel answers with an
 * ERROR on stream 0 and closes, because a byte stream cannot be resynchronised.
 */
export class FrameChannel {
  private readonly decoder = new FrameDecoder();
  private closed = false;

  constructor(
    private readonly stream: Duplex,
    private readonly events: FrameChannelEvents,
  ) {
    stream.on("data", (chunk: Buffer) => this.receive(chunk));
    stream.on("error", () => this.close());
    stream.on("close", () => this.close());
    stream.on("end", () => this.close());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Writes a frame; returns false when the stream wants the writer to wait for "drain". */
  send(frame: Frame): boolean {
    if (this.closed) return false;
    return this.stream.write(encodeFrame(frame));
  }

  /** Resolves once buffered writes have drained (immediately when nothing waits). */
  drained(): Promise<void> {
    if (this.closed || !this.stream.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.stream.off("drain", done);
        this.stream.off("close", done);
        resolve();
      };
      this.stream.on("drain", done);
      this.stream.on("close", done);
    });
  }

  pause(): void {
    this.stream.pause();
  }

  resume(): void {
    this.stream.resume();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stream.destroy();
    this.events.onClose();
  }

  /** Sends a last frame (an ERROR saying why), then closes once it had a moment to leave. */
  closeWith(frame: Frame): void {
    if (this.closed) return;
    this.closed = true;
    this.stream.end(encodeFrame(frame));
    setTimeout(() => this.stream.destroy(), 100).unref();
    this.events.onClose();
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return;
    let frames: Frame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (error) {
      this.fail(error as FrameError);
      return;
    }
    for (const frame of frames) {
      if (this.closed) return;
      try {
        this.events.onFrame(frame);
      } catch (error) {
        if (error instanceof FrameError) {
          this.fail(error);
          return;
        }
        throw error;
      }
    }
  }

  private fail(error: FrameError): void {
    if (!this.closed)
      this.stream.end(encodeFrame(encode.error(0, { code: error.code, message: error.message })));
    this.closed = true;
    // Give the ERROR frame a moment to leave before the stream is torn down.
    setTimeout(() => this.stream.destroy(), 100).unref();
    this.events.onProtocolError(error);
    this.events.onClose();
  }
}
