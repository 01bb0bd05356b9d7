import { randomBytes } from "node:crypto";
import { MessageType } from "../agent-protocol/constants.js";
import type { Frame } from "../agent-protocol/frame.js";
import { decode, encode, type ExecRequest } from "../agent-protocol/messages.js";
import { CompiledSecrets, SecretMasker, maskString } from "../secrets/masker.js";
import { readSecretValues } from "../secrets/values.js";
import { boundedText } from "./bounded-text.js";
import type { ManagedInfo } from "./control-protocol.js";
import { OutputRing } from "./output-ring.js";
import type { StreamRouter } from "./router.js";
import type { SavedProcess } from "./supervisor-state.js";

export const OUTPUT_CAPACITY = 1024 * 1024;
const STDIN_CHUNK = 65536;

export type { ManagedInfo } from "./control-protocol.js";

/** How a ManagedProcess comes to be: started now, or carried across a pause by a new supervisor. */
type Origin =
  | { kind: ManagedInfo["kind"]; name: string; request: ExecRequest; maskDir: string | null }
  | { saved: SavedProcess };

/** A shell or service the supervisor runs in the guest, so it outlives the client that started it. */
export class ManagedProcess {
  /** Output as kept and read back: secret values are masked before they enter the ring. */
  readonly output: OutputRing;
  private readonly masker: SecretMasker;
  private readonly secrets: CompiledSecrets;
  readonly info: ManagedInfo;
  /** The secret store its output is masked with (kept so a pause can carry it). */
  readonly maskDir: string | null;
  lastOutputAt = Date.now();
  private readonly waiters = new Set<() => void>();
  /** Its guest stream; 0 (no stream) for one restored after it ended. */
  private readonly stream: number;

  constructor(
    private readonly router: StreamRouter,
    origin: Origin,
    private readonly onEnded: (info: ManagedInfo) => void = () => undefined,
  ) {
    const saved = "saved" in origin ? origin.saved : null;
    this.maskDir = saved?.mask_dir ?? ("saved" in origin ? null : origin.maskDir);
    this.secrets = CompiledSecrets.of(this.maskDir === null ? [] : readSecretValues(this.maskDir));
    this.masker = new SecretMasker(this.secrets);
    if (saved !== null) {
      this.info = { ...saved.info };
      this.output = OutputRing.restored(OUTPUT_CAPACITY, saved.output_start, saved.output);
      this.lastOutputAt = saved.last_output_at;
      // Bytes held back before the pause are fed again; none of them can come out yet.
      this.masker.push(saved.mask_pending);
      this.stream = saved.stream ?? 0;
      if (saved.stream !== null) router.restoreOwnStream(saved.stream, (frame) => this.onFrame(frame));
      return;
    }
    const { kind, name, request } = origin as Exclude<Origin, { saved: SavedProcess }>;
    this.output = new OutputRing(OUTPUT_CAPACITY);
    this.info = {
      id: kind === "service" ? name : `sh-${randomBytes(4).toString("hex")}`,
      kind,
      name,
      state: "starting",
      pid: null,
      exit_code: null,
      signal: null,
      started_at: new Date().toISOString(),
      ended_at: null,
      output_end: 0,
      cwd: request.cwd ?? "/",
      pty: request.pty ?? null,
      error: null,
    };
    this.stream = router.openOwnStream((frame) => this.onFrame(frame));
    router.sendToGuest(encode.exec(this.stream, request));
  }

  /**
   * Its host half for a new supervisor (SupervisorState). Bytes the masker can already decide are
   * kept first, so what is saved as pending is only what could still start a secret value.
   */
  save(): SavedProcess {
    const checkpoint = this.running ? this.masker.checkpoint() : null;
    if (checkpoint !== null) this.keep(checkpoint.out);
    return {
      info: { ...this.info },
      stream: this.running ? this.stream : null,
      mask_dir: this.maskDir,
      last_output_at: this.lastOutputAt,
      output_start: this.output.start,
      output: this.output.kept(),
      mask_pending: checkpoint?.pending ?? Buffer.alloc(0),
    };
  }

  get running(): boolean {
    return this.info.state !== "exited";
  }

  /**
   * Sends input to the process; resolves once the agent channel has room again, so a writer that
   * waits for each write goes no faster than the guest takes input.
   */
  async write(data: Buffer): Promise<void> {
    let congested = false;
    for (let offset = 0; offset < data.length; offset += STDIN_CHUNK) {
      const chunk = data.subarray(offset, offset + STDIN_CHUNK);
      congested = !this.router.sendToGuest(encode.stdin(this.stream, chunk)) || congested;
    }
    if (congested) await this.router.guestDrained();
  }

  signal(signo: number): void {
    if (this.running) this.router.sendToGuest(encode.signal(this.stream, signo));
  }

  resize(cols: number, rows: number): void {
    if (!this.running || this.info.pty === null) return;
    this.info.pty = { cols, rows };
    this.router.sendToGuest(encode.resize(this.stream, { cols, rows }));
  }

  /** Resolves once the agent said whether the process started (STARTED or ERROR), or after `ms`. */
  async started(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.info.state === "starting" && Date.now() < deadline) await this.changed(deadline - Date.now());
  }

  /** Resolves on new output, on exit, or after `ms`. */
  changed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  private onFrame(frame: Frame): void {
    switch (frame.type) {
      case MessageType.STARTED:
        this.info.pid = decode.started(frame.body);
        this.info.state = "running";
        break;
      case MessageType.STDOUT:
      case MessageType.STDERR:
        this.keep(this.masker.push(frame.body)); // the ring copies what it keeps
        this.lastOutputAt = Date.now();
        break;
      case MessageType.EXIT: {
        const status = decode.exit(frame.body);
        this.finish(status.exitCode, status.signal || null, null);
        break;
      }
      case MessageType.ERROR: {
        const error = decode.error(frame.body);
        this.finish(null, null, `${error.code}: ${error.message}`);
        break;
      }
      default:
        return;
    }
    this.notify();
  }

  private keep(data: Buffer): void {
    if (data.length === 0) return;
    this.output.append(data);
    this.info.output_end = this.output.end;
  }

  /** The VM is going away: whatever still runs is reported as ended. */
  finish(exitCode: number | null, signal: number | null, error: string | null): void {
    if (this.info.state === "exited") return;
    this.keep(this.masker.flush()); // the stream ended: bytes held back for a possible value come out
    this.info.state = "exited";
    this.info.exit_code = exitCode;
    this.info.signal = signal;
    // Kept and repeated in every later reply about this process: masked whole, then bounded
    // (cut first, a secret's prefix could survive).
    this.info.error = error === null ? null : boundedText(maskString(error, this.secrets));
    this.info.ended_at = new Date().toISOString();
    this.onEnded(this.info);
    this.notify();
  }
}
