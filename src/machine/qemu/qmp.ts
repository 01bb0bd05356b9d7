import type { Socket } from "node:net";
import { z } from "zod";
import { PyroError } from "../../errors/index.js";
import { connectUnixWithRetry } from "../connect-unix.js";

/** QEMU's replies are small; a longer line means a broken or hostile peer. */
const MAX_LINE = 1024 * 1024;

const Greeting = z.object({ QMP: z.object({}).passthrough() });
const Reply = z.union([
  z.object({ return: z.unknown(), id: z.number().optional() }),
  z.object({ error: z.object({ class: z.string(), desc: z.string() }), id: z.number().optional() }),
]);
const Event = z.object({ event: z.string(), data: z.record(z.string(), z.unknown()).optional() });

export type QmpEvent = z.infer<typeof Event>;

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * A QEMU Machine Protocol client on the VM's own monitor socket: the greeting and capability
 * negotiation, commands answered in order (one id each), and asynchronous events.
 */
export class QmpClient {
  private buffered = "";
  private greeted: ((error: Error | null) => void) | null = null;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<(event: QmpEvent) => void>();
  private nextId = 1;
  private failure: Error | null = null;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => this.receive(chunk));
    socket.on("error", (error) => this.fail(error));
    socket.on("close", () => this.fail(new Error("the QMP connection closed")));
  }

  /** Connects (retrying until QEMU listens or the deadline passes) and leaves capability negotiation. */
  static async connect(path: string, deadlineMs: number, alive: () => boolean): Promise<QmpClient> {
    const client = new QmpClient(await connectUnixWithRetry(path, deadlineMs, alive));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error("no QMP greeting")),
          Math.max(1, deadlineMs - Date.now()),
        );
        client.greeted = (error) => {
          clearTimeout(timer);
          client.greeted = null;
          if (error === null) resolve();
          else reject(error);
        };
      });
      await client.execute("qmp_capabilities", {}, Math.max(1_000, deadlineMs - Date.now()));
    } catch (error) {
      client.close();
      throw qmpError(`QMP handshake failed: ${String((error as Error).message)}`, error);
    }
    return client;
  }

  /** Runs one command; resolves with its `return` value, rejects on its `error` or the timeout. */
  execute(command: string, args: Record<string, unknown>, timeoutMs: number): Promise<unknown> {
    if (this.failure !== null) return Promise.reject(qmpError(`QMP ${command}: ${this.failure.message}`));
    const id = this.nextId++;
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(qmpError(`QMP ${command} got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.socket.write(`${JSON.stringify({ execute: command, arguments: args, id })}\n`);
    }).catch((error: unknown) => {
      throw error instanceof PyroError ? error : qmpError(`QMP ${command}: ${(error as Error).message}`);
    });
  }

  /** Resolves with the first event that `matches` (received from now on), or rejects after `timeoutMs`. */
  waitForEvent(matches: (event: QmpEvent) => boolean, timeoutMs: number): Promise<QmpEvent> {
    return new Promise<QmpEvent>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.listeners.delete(listener);
      };
      const listener = (event: QmpEvent): void => {
        if (event.event === "__closed") {
          done();
          reject(qmpError(`QMP closed while waiting: ${this.failure?.message ?? ""}`));
        } else if (matches(event)) {
          done();
          resolve(event);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(qmpError(`no matching QMP event within ${timeoutMs} ms`));
      }, timeoutMs);
      this.listeners.add(listener);
      if (this.failure !== null) listener({ event: "__closed" });
    });
  }

  close(): void {
    this.socket.destroy();
    this.fail(new Error("closed"));
  }

  private receive(chunk: string): void {
    this.buffered += chunk;
    let newline: number;
    while ((newline = this.buffered.indexOf("\n")) >= 0) {
      const line = this.buffered.slice(0, newline).trim();
      this.buffered = this.buffered.slice(newline + 1);
      if (line.length > 0) this.line(line);
    }
    if (this.buffered.length > MAX_LINE) {
      this.fail(new Error(`a QMP line longer than ${MAX_LINE} bytes`));
      this.socket.destroy();
    }
  }

  private line(text: string): void {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      this.fail(new Error("QEMU sent a line that is not JSON"));
      this.socket.destroy();
      return;
    }
    if (this.greeted !== null) {
      this.greeted(Greeting.safeParse(value).success ? null : new Error("unexpected QMP greeting"));
      return;
    }
    const event = Event.safeParse(value);
    if (event.success) {
      for (const listener of [...this.listeners]) listener(event.data);
      return;
    }
    const reply = Reply.safeParse(value);
    const id = reply.success ? reply.data.id : undefined;
    const waiter = id === undefined ? undefined : this.pending.get(id);
    if (!reply.success || waiter === undefined || id === undefined) return; // nothing asked for it
    this.pending.delete(id);
    clearTimeout(waiter.timer);
    if ("error" in reply.data)
      waiter.reject(new Error(`${reply.data.error.class}: ${reply.data.error.desc}`));
    else waiter.resolve(reply.data.return);
  }

  private fail(error: Error): void {
    if (this.failure !== null) return;
    this.failure = error;
    this.greeted?.(error);
    for (const [id, waiter] of this.pending) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
      this.pending.delete(id);
    }
    for (const listener of [...this.listeners]) listener({ event: "__closed" });
  }
}

function qmpError(message: string, cause?: unknown): PyroError {
  return new PyroError("EXEC_FAILED", message, cause === undefined ? {} : { cause });
}
