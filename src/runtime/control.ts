import { setTimeout as sleep } from "node:timers/promises";
import type { ExecRequest } from "../agent-protocol/messages.js";
import { readSecretValues } from "../secrets/values.js";
import { boundedText } from "./bounded-text.js";
import { controlDataRoom, decodeControl, encodeControl } from "./control-codec.js";
import { ManagedProcess, type ManagedInfo } from "./managed.js";
import { PortError, PublishedPorts } from "./published-ports.js";
import type { StreamRouter } from "./router.js";

/** Requests a local client sends to the supervisor (not to the guest). */
export type ControlRequest =
  | {
      op: "start";
      kind: ManagedInfo["kind"];
      name: string;
      request: ExecRequest;
      /** A secret store folder: its values are masked in the output before it is kept. */
      mask_dir?: string;
    }
  | { op: "write"; id: string }
  | {
      op: "read";
      id: string;
      cursor: number;
      max_bytes: number;
      wait_for_idle_ms?: number;
      max_wait_ms?: number;
    }
  | { op: "signal"; id: string; signo: number }
  | { op: "resize"; id: string; cols: number; rows: number }
  | { op: "wait"; id: string; timeout_ms: number }
  | { op: "list" }
  | { op: "remove"; id: string }
  | PortRequest;

/**
 * Published ports: host 127.0.0.1:host_port relayed to guest_port (host_port 0 = any free port);
 * `owner` is a label (a service name) reported back as `service`.
 */
export type PortRequest =
  | { op: "publish"; host_port: number; guest_port: number; owner?: string }
  | { op: "unpublish"; host_port: number }
  | { op: "ports" };

export type ControlReply =
  ({ ok: true } & Record<string, unknown>) | { ok: false; code: string; message: string };

const MAX_MANAGED = 64;
const MAX_WAIT_MS = 60_000;
/** How long a start waits for the agent to say whether the process started. */
const START_WAIT_MS = 10_000;
/** How long a write waits for the guest to take earlier input before it is refused. */
const STDIN_WAIT_MS = 10_000;

/** The supervisor's side of shells, services and published ports. */
export class ControlHandler {
  private readonly processes = new Map<string, ManagedProcess>();
  private readonly ports: PublishedPorts;

  constructor(private readonly router: () => StreamRouter | null) {
    this.ports = new PublishedPorts(router);
  }

  async handle(body: Buffer): Promise<Buffer> {
    try {
      const { header, data } = decodeControl<ControlRequest>(body);
      const { reply, data: out } = await this.dispatch(header, data);
      return encodeControl(reply, out);
    } catch (error) {
      return encodeControl({ ok: false, code: "INTERNAL", message: (error as Error).message });
    }
  }

  /** The VM stopped: every shell and service ended with it, and its ports are closed. */
  endAll(reason: string): void {
    for (const process of this.processes.values()) process.finish(null, null, reason);
    this.ports.closeAll();
  }

  private find(id: string): ManagedProcess | null {
    return this.processes.get(id) ?? null;
  }

  private async dispatch(
    request: ControlRequest,
    data: Buffer,
  ): Promise<{ reply: ControlReply; data?: Buffer }> {
    if (request.op === "list") return { reply: listReply([...this.processes.values()].map((p) => p.info)) };
    if (request.op === "start") return { reply: await this.start(request) };
    if (request.op === "publish" || request.op === "unpublish" || request.op === "ports")
      return { reply: await this.port(request) };
    const process = this.find(request.id);
    if (process === null)
      return { reply: { ok: false, code: "NOT_FOUND", message: `no shell or service ${request.id}` } };
    switch (request.op) {
      case "write":
        return { reply: await this.write(process, request.id, data) };
      case "read":
        return this.read(process, request);
      case "signal":
        process.signal(request.signo);
        return { reply: { ok: true } };
      case "resize":
        process.resize(request.cols, request.rows);
        return { reply: { ok: true } };
      case "wait": {
        const deadline = Date.now() + Math.min(request.timeout_ms, MAX_WAIT_MS);
        while (process.running && Date.now() < deadline) await process.changed(deadline - Date.now());
        return { reply: { ok: true, info: process.info } };
      }
      case "remove":
        process.signal(9);
        this.processes.delete(request.id);
        return { reply: { ok: true, info: process.info } };
    }
  }

  /**
   * Input is queued only while the agent channel has room, and the reply waits until it has room
   * again: a writer faster than the guest reads is slowed to the guest's pace, and one the guest
   * ignores is refused, so host memory holds at most one write per request in flight.
   */
  private async write(process: ManagedProcess, id: string, data: Buffer): Promise<ControlReply> {
    if (!process.running) return { ok: false, code: "ENDED", message: `${id} has ended` };
    if (!(await this.guestHasRoom())) {
      return {
        ok: false,
        code: "BUSY",
        message: `${id} has not read its earlier input for ${STDIN_WAIT_MS / 1000} s (input waits for the guest to take it); nothing was written`,
      };
    }
    await within(process.write(data), STDIN_WAIT_MS);
    return { ok: true };
  }

  private guestHasRoom(): Promise<boolean> {
    const router = this.router();
    if (router === null) return Promise.resolve(false);
    return within(router.guestDrained(), STDIN_WAIT_MS);
  }

  private async start(request: Extract<ControlRequest, { op: "start" }>): Promise<ControlReply> {
    const router = this.router();
    if (router === null) return { ok: false, code: "NOT_READY", message: "the VM is not ready" };
    const existing = request.kind === "service" ? this.find(request.name) : null;
    if (existing !== null) {
      if (existing.running)
        return { ok: false, code: "EXISTS", message: `service ${request.name} is already running` };
      this.processes.delete(request.name); // an ended service's name can be reused
    }
    if (this.processes.size >= MAX_MANAGED) {
      return { ok: false, code: "LIMIT", message: `at most ${MAX_MANAGED} shells and services per VM` };
    }
    const secrets = readSecretValues(request.mask_dir ?? "");
    const process = new ManagedProcess(
      router,
      request.kind,
      request.name,
      request.request,
      (info) => {
        if (info.kind === "service") this.ports.releaseOwner(info.name);
      },
      secrets,
    );
    this.processes.set(process.info.id, process);
    // The reply says whether it started: a missing cwd is an error of the start, not a later exit.
    await process.started(START_WAIT_MS);
    return { ok: true, info: process.info };
  }

  private async port(request: PortRequest): Promise<ControlReply> {
    try {
      if (request.op === "ports") return { ok: true, ports: this.ports.list() };
      if (request.op === "unpublish") return { ok: true, port: this.ports.unpublish(request.host_port) };
      return {
        ok: true,
        port: await this.ports.publish(request.host_port, request.guest_port, request.owner),
      };
    } catch (error) {
      if (error instanceof PortError) return { ok: false, code: error.code, message: error.message };
      throw error;
    }
  }

  /**
   * Output from a cursor. With wait_for_idle_ms, first waits until the process has been quiet
   * that long (counted from the later of its last output and this request), or has exited, or
   * max_wait_ms passed — so one read returns one complete answer.
   */
  private async read(
    process: ManagedProcess,
    request: Extract<ControlRequest, { op: "read" }>,
  ): Promise<{ reply: ControlReply; data: Buffer }> {
    const idle = request.wait_for_idle_ms ?? 0;
    if (idle > 0) {
      const requested = Date.now();
      const deadline = requested + Math.min(request.max_wait_ms ?? 10_000, MAX_WAIT_MS);
      for (;;) {
        const quietFor = Date.now() - Math.max(process.lastOutputAt, requested);
        if (!process.running || quietFor >= idle || Date.now() >= deadline) break;
        await process.changed(Math.min(idle - quietFor, deadline - Date.now()));
      }
    }
    const header = (chunk: { from: number; next: number; dropped: number }): ControlReply => ({
      ok: true,
      from: chunk.from,
      next: chunk.next,
      dropped: chunk.dropped,
      end: process.output.end,
      info: process.info,
    });
    // The bytes get whatever room the header (with offsets at their widest) leaves.
    const widest = Number.MAX_SAFE_INTEGER;
    const room = controlDataRoom(header({ from: widest, next: widest, dropped: widest }));
    const chunk = process.output.read(request.cursor, Math.min(request.max_bytes, room));
    return { reply: header(chunk), data: chunk.data };
  }
}

/** True when `work` settles within `ms`; the timer is cleared either way (writes may come per keystroke). */
async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  const timer = new AbortController();
  try {
    return await Promise.race([
      work.then(() => true),
      sleep(ms, false, { ref: false, signal: timer.signal }),
    ]);
  } finally {
    timer.abort();
  }
}

/**
 * Every shell and service, in one reply that always fits a frame: with many of them and long
 * working directories it might not, and then each one's cwd and error are shortened.
 */
function listReply(infos: ManagedInfo[]): ControlReply {
  const full: ControlReply = { ok: true, processes: infos };
  if (controlDataRoom(full) >= 0) return full;
  const short = infos.map((info) => ({
    ...info,
    cwd: boundedText(info.cwd, 64),
    error: info.error === null ? null : boundedText(info.error, 64),
  }));
  return { ok: true, processes: short };
}
