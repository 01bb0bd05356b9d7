import { setTimeout as sleep } from "node:timers/promises";
import { PyroError } from "../errors/index.js";
import { boundedText } from "./bounded-text.js";
import { ControlFramingError, controlDataRoom, decodeControl, encodeControl } from "./control-codec.js";
import {
  ControlRequest,
  RefusalCode,
  describeIssues,
  type ControlOp,
  type ControlReply,
  type ManagedInfo,
  type ProcessKind,
  type PublishedPort,
  type Refusal,
  type ReplyOf,
  type RequestOf,
} from "./control-protocol.js";
import { ManagedProcess } from "./managed.js";
import { PortError, PublishedPorts } from "./published-ports.js";
import { NO_DISK_SNAPSHOTS, type DiskSnapshots } from "./disk-snapshots.js";
import type { ExpiryClock } from "./expiry-clock.js";
import type { DiskCopies } from "./vm-saver.js";
import type { StreamRouter } from "./router.js";
import { SupervisorState } from "./supervisor-state.js";

/** What `reattach` did with an imported state's published ports. */
export interface ReattachReport {
  /** Bound again on their old host ports. */
  ports: PublishedPort[];
  /** Could not be bound again (e.g. PORT_IN_USE: another program took the host port meanwhile). */
  lost: { port: PublishedPort; code: PortError["code"]; message: string }[];
}

const MAX_MANAGED = 64;
const MAX_WAIT_MS = 60_000;
/** How long a start waits for the agent to say whether the process started. */
const START_WAIT_MS = 10_000;
/** How long a write waits for the guest to take earlier input before it is refused. */
const STDIN_WAIT_MS = 10_000;

/** Requests that only look (status, listings, the deadline): watching a workspace is not using it. */
const OBSERVING = new Set<ControlOp>(["deadline", "ports", "list"]);

const refuse = (code: RefusalCode, message: string): Refusal => ({ ok: false, code, message });
const NOT_FOUND = { shell: "SHELL_NOT_FOUND", service: "SERVICE_NOT_FOUND" } as const;

type Handled<Op extends ControlOp> = Promise<{ reply: ReplyOf<Op> | Refusal; data?: Buffer }>;

/** What the supervisor does for the whole-VM control requests. */
export interface VmRequests {
  pause(): Promise<{ save_ms: number }>;
  fork(dir: string, copies: DiskCopies): Promise<{ save_ms: number }>;
}

const cannotSave = (): Promise<never> =>
  Promise.reject(new PyroError("VM_NOT_RUNNING", "this supervisor cannot save its VM"));
const CANNOT_SAVE: VmRequests = { pause: cannotSave, fork: cannotSave };

/** What the supervisor lends its control handler beyond the router; a handler without one refuses its requests. */
export interface ControlParts {
  /** The whole-VM requests (pause, fork), which only the supervisor itself can carry out. */
  vm?: VmRequests;
  /** Live snapshots of the workspace disk, when the VM has one. */
  disk?: () => DiskSnapshots;
  /** The VM's expiry (set_ttl, deadline). */
  expiry?: ExpiryClock;
}

/** The supervisor's side of shells, services and published ports. */
export class ControlHandler {
  private readonly processes = new Map<string, ManagedProcess>();
  private readonly ports: PublishedPorts;
  /** Ports of an imported state, bound again by `reattach`. */
  private portsToRebind: PublishedPort[] = [];

  private readonly vm: VmRequests;
  private readonly disk: () => DiskSnapshots;
  private readonly expiry: ExpiryClock | null;

  constructor(
    private readonly router: () => StreamRouter | null,
    parts: ControlParts = {},
  ) {
    this.ports = new PublishedPorts(router);
    this.vm = parts.vm ?? CANNOT_SAVE;
    this.disk = parts.disk ?? (() => NO_DISK_SNAPSHOTS);
    this.expiry = parts.expiry ?? null;
  }

  /** Answers one control body. Never throws: whatever a client sends, it gets a typed reply. */
  async handle(body: Buffer): Promise<Buffer> {
    try {
      const { reply, data } = await this.answer(body);
      return encodeControl(reply, data);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const code = RefusalCode.safeParse(error instanceof PyroError ? error.code : null);
      return encodeControl(refuse(code.success ? code.data : "INTERNAL", boundedText(message, 1024)));
    }
  }

  /**
   * The host half of every shell, service and published port, for the supervisor that resumes this
   * VM after a pause (or a fork's copy). Call it once the guest is quiesced, so no output is in flight.
   */
  exportState(): SupervisorState {
    const router = this.router();
    if (router === null) throw new PyroError("VM_NOT_RUNNING", "the VM is not ready");
    const processes = [...this.processes.values()].map((process) => process.save());
    const own = new Set(processes.flatMap((p) => p.stream ?? []));
    const { streams, next } = router.openStreams();
    return SupervisorState.parse({
      version: 1,
      saved_at: new Date().toISOString(),
      next_stream: next,
      processes,
      ports: this.ports.list(),
      orphan_streams: streams.filter((stream) => !own.has(stream)),
    });
  }

  /**
   * Takes over a paused supervisor's shells and services: same ids, cursors, output and exit
   * info, and their guest streams routed to them. Call it on a new router before the agent's
   * HELLO RESUME, so the first frame on a restored stream already has a home; then `reattach`.
   */
  importState(state: SupervisorState): void {
    const router = this.router();
    if (router === null) throw new PyroError("VM_NOT_RUNNING", "the VM is not ready");
    if (this.processes.size > 0 || this.ports.list().length > 0)
      throw new PyroError("INTERNAL", "a supervisor state is imported only into a fresh supervisor");
    for (const saved of state.processes) {
      const process = new ManagedProcess(router, { saved }, (info) => this.ended(info));
      this.processes.set(process.info.id, process);
    }
    router.restoreStreams(state.orphan_streams, state.next_stream);
    this.portsToRebind = state.ports;
  }

  /**
   * After the agent acknowledged HELLO RESUME: ends the guest streams whose host side did not
   * survive the pause, and re-binds the published ports on their host ports. A port that cannot be
   * bound now (another program took it) is reported in `lost`, not silently dropped.
   */
  async reattach(): Promise<ReattachReport> {
    this.router()?.endOrphans();
    const report: ReattachReport = { ports: [], lost: [] };
    const ports = this.portsToRebind;
    this.portsToRebind = [];
    for (const port of ports) {
      const owner = port.service === null ? undefined : this.processes.get(port.service);
      if (owner !== undefined && !owner.running) continue; // its service ended: the port went with it
      try {
        report.ports.push(
          await this.ports.publish(port.host_port, port.guest_port, port.service ?? undefined),
        );
      } catch (error) {
        if (!(error instanceof PortError)) throw error;
        report.lost.push({ port, code: error.code, message: error.message });
      }
    }
    return report;
  }

  /** The VM stopped: every shell and service ended with it, and its ports are closed. */
  endAll(reason: string): void {
    for (const process of this.processes.values()) process.finish(null, null, reason);
    this.ports.closeAll();
  }

  private async answer(body: Buffer): Promise<{ reply: ControlReply; data?: Buffer }> {
    let header: unknown;
    let data: Buffer;
    try {
      ({ header, data } = decodeControl(body));
    } catch (error) {
      if (error instanceof ControlFramingError) return { reply: refuse("INVALID_ARGUMENT", error.message) };
      throw error;
    }
    const parsed = ControlRequest.safeParse(header);
    if (!parsed.success)
      return {
        reply: refuse("INVALID_ARGUMENT", `malformed control request: ${describeIssues(parsed.error)}`),
      };
    return this.dispatch(parsed.data, data);
  }

  private async dispatch(
    request: ControlRequest,
    data: Buffer,
  ): Promise<{ reply: ControlReply; data?: Buffer }> {
    if (!OBSERVING.has(request.op)) this.expiry?.touch();
    switch (request.op) {
      case "list":
        return { reply: listReply([...this.processes.values()].map((p) => p.info)) };
      case "start":
        return { reply: await this.start(request) };
      case "publish":
      case "unpublish":
      case "ports":
        return { reply: await this.port(request) };
      case "snapshot_disk":
      case "delete_disk_snapshot":
        return { reply: await this.diskSnapshot(request) };
      case "pause":
        return { reply: { ok: true, op: "pause", ...(await this.vm.pause()) } };
      case "fork":
        return {
          reply: {
            ok: true,
            op: "fork",
            ...(await this.vm.fork(request.dir, {
              root_disk: request.root_disk,
              workspace_disk: request.workspace_disk,
            })),
          },
        };
      case "set_ttl":
      case "deadline": {
        const expiry = this.expiry;
        if (expiry === null) return { reply: refuse("VM_NOT_RUNNING", "this VM has no TTL to change") };
        if (request.op === "set_ttl") expiry.setTtl(request.ttl_seconds * 1000);
        const deadline = { expires_at_ms: expiry.expiresAtMs, idle_ttl_ms: expiry.idleMs };
        return { reply: { ok: true, op: request.op, ...deadline } };
      }
      default:
        return this.onProcess(request, data);
    }
  }

  private async onProcess(
    request: RequestOf<"write" | "read" | "signal" | "resize" | "wait" | "remove">,
    data: Buffer,
  ): Handled<typeof request.op> {
    const process = this.find(request.kind, request.id);
    if (process === null)
      return { reply: refuse(NOT_FOUND[request.kind], `no ${request.kind} ${request.id}`) };
    switch (request.op) {
      case "write":
        return { reply: await this.write(process, request.id, data) };
      case "read":
        return this.read(process, request);
      case "signal":
        process.signal(request.signo);
        return { reply: { ok: true, op: "signal" } };
      case "resize":
        process.resize(request.cols, request.rows);
        return { reply: { ok: true, op: "resize" } };
      case "wait": {
        const deadline = Date.now() + Math.min(request.timeout_ms, MAX_WAIT_MS);
        while (process.running && Date.now() < deadline) await process.changed(deadline - Date.now());
        return { reply: { ok: true, op: "wait", info: process.info } };
      }
      case "remove":
        process.signal(9);
        this.processes.delete(request.id);
        return { reply: { ok: true, op: "remove", info: process.info } };
    }
  }

  /** A shell or service by id; a request naming the other kind does not find it. */
  private find(kind: ProcessKind, id: string): ManagedProcess | null {
    const process = this.processes.get(id);
    return process !== undefined && process.info.kind === kind ? process : null;
  }

  /**
   * Input is queued only while the agent channel has room, and the reply waits until it has room
   * again: a writer faster than the guest reads is slowed to the guest's pace, and one the guest
   * ignores is refused, so host memory holds at most one write per request in flight.
   */
  private async write(
    process: ManagedProcess,
    id: string,
    data: Buffer,
  ): Promise<ReplyOf<"write"> | Refusal> {
    if (!process.running) return refuse("SHELL_ENDED", `${id} has ended`);
    if (!(await this.guestHasRoom())) {
      return refuse(
        "LIMIT_EXCEEDED",
        `${id} has not read its earlier input for ${STDIN_WAIT_MS / 1000} s (input waits for the guest to take it); nothing was written`,
      );
    }
    await within(process.write(data), STDIN_WAIT_MS);
    return { ok: true, op: "write" };
  }

  private guestHasRoom(): Promise<boolean> {
    const router = this.router();
    if (router === null) return Promise.resolve(false);
    return within(router.guestDrained(), STDIN_WAIT_MS);
  }

  private async start(request: RequestOf<"start">): Promise<ReplyOf<"start"> | Refusal> {
    const router = this.router();
    if (router === null) return refuse("VM_NOT_RUNNING", "the VM is not ready");
    // Service names are ids, and so may clash; shell ids are made up fresh.
    const existing = request.kind === "service" ? (this.processes.get(request.name) ?? null) : null;
    if (existing !== null) {
      if (existing.running) return refuse("SERVICE_EXISTS", `service ${request.name} is already running`);
      this.processes.delete(request.name); // an ended service's name can be reused
    }
    if (this.processes.size >= MAX_MANAGED)
      return refuse("INVALID_ARGUMENT", `at most ${MAX_MANAGED} shells and services per VM`);
    const process = new ManagedProcess(
      router,
      { kind: request.kind, name: request.name, request: request.request, maskDir: request.mask_dir ?? null },
      (info) => this.ended(info),
    );
    this.processes.set(process.info.id, process);
    // The reply says whether it started: a missing cwd is an error of the start, not a later exit.
    await process.started(START_WAIT_MS);
    return { ok: true, op: "start", info: process.info };
  }

  private ended(info: ManagedInfo): void {
    if (info.kind === "service") this.ports.releaseOwner(info.name);
  }

  private async port(
    request: RequestOf<"publish" | "unpublish" | "ports">,
  ): Promise<ReplyOf<"publish" | "unpublish" | "ports"> | Refusal> {
    try {
      switch (request.op) {
        case "ports":
          return { ok: true, op: "ports", ports: this.ports.list() };
        case "unpublish":
          return { ok: true, op: "unpublish", port: this.ports.unpublish(request.host_port) };
        case "publish": {
          const port = await this.ports.publish(request.host_port, request.guest_port, request.owner);
          return { ok: true, op: "publish", port };
        }
      }
    } catch (error) {
      if (error instanceof PortError) return refuse(error.code, error.message);
      throw error;
    }
  }

  private async diskSnapshot(
    request: RequestOf<"snapshot_disk" | "delete_disk_snapshot">,
  ): Promise<ReplyOf<"snapshot_disk" | "delete_disk_snapshot"> | Refusal> {
    try {
      if (request.op === "snapshot_disk") await this.disk().snapshot(request.name);
      else await this.disk().delete(request.name);
      return { ok: true, op: request.op };
    } catch (error) {
      const code = error instanceof PyroError ? RefusalCode.safeParse(error.code) : null;
      const message = boundedText(error instanceof Error ? error.message : String(error), 1024);
      return refuse(code?.success === true ? code.data : "EXEC_FAILED", message);
    }
  }

  private async read(process: ManagedProcess, request: RequestOf<"read">): Handled<"read"> {
    const idle = request.wait_for_idle_ms ?? 0;
    if (idle > 0) {
      // Quiet is counted from the later of the last output and this request.
      const requested = Date.now();
      const deadline = requested + Math.min(request.max_wait_ms ?? 10_000, MAX_WAIT_MS);
      for (;;) {
        const quietFor = Date.now() - Math.max(process.lastOutputAt, requested);
        if (!process.running || quietFor >= idle || Date.now() >= deadline) break;
        await process.changed(Math.min(idle - quietFor, deadline - Date.now()));
      }
    }
    const header = (chunk: { from: number; next: number; dropped: number }): ReplyOf<"read"> => ({
      ok: true,
      op: "read",
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
function listReply(infos: ManagedInfo[]): ReplyOf<"list"> {
  const full: ReplyOf<"list"> = { ok: true, op: "list", processes: infos };
  if (controlDataRoom(full) >= 0) return full;
  const short = infos.map((info) => ({
    ...info,
    cwd: boundedText(info.cwd, 64),
    error: info.error === null ? null : boundedText(info.error, 64),
  }));
  return { ok: true, op: "list", processes: short };
}
