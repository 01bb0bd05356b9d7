import { randomBytes } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import { rmSync, writeSync, closeSync } from "node:fs";
import { dirname } from "node:path";
import type { Duplex } from "node:stream";
import { MessageType } from "../agent-protocol/constants.js";
import { FrameChannel } from "../agent-protocol/channel.js";
import { FrameError, type Frame } from "../agent-protocol/frame.js";
import { encode, type HelloAck } from "../agent-protocol/messages.js";
import { AcceptingSession, OpeningSession } from "../agent-protocol/session.js";
import type { LaunchedVmm, MachineDriver } from "../machine/types.js";
import { startDeathGuard, type DeathGuard } from "../machine/death-guard.js";
import { PyroError, toPyroError } from "../errors/index.js";
import { writeJsonAtomic } from "../platform/atomic-file.js";
import { SecretMasker } from "../secrets/masker.js";
import { readSecretValues } from "../secrets/values.js";
import { isProcessAlive } from "../platform/processes.js";
import type { ReadyReport, SupervisorConfig } from "./config.js";
import { exitPath, type VmExit } from "./exit-note.js";
import { boundedText } from "./bounded-text.js";
import { ControlHandler } from "./control.js";
import { frozenDiskSnapshots, NO_DISK_SNAPSHOTS, type DiskSnapshots } from "./disk-snapshots.js";
import type { SavedVmManifest } from "./saved-vm.js";
import { readSupervisorState } from "./supervisor-state.js";
import { saveForFork, saveForPause, type DiskCopies, type SavableVm } from "./vm-saver.js";
import { ExpiryClock } from "./expiry-clock.js";
import { StreamRouter, type ClientConnection } from "./router.js";

const SHUTDOWN_GRACE_MS = 5_000;
/** Bytes of host randomness mixed into a guest's pool at every boot and restore. */
const IDENTITY_ENTROPY_BYTES = 64;

/** A local client: its connection, and the session it must open with HELLO. */
interface LocalClient extends ClientConnection {
  session: AcceptingSession;
}
const OWNER_POLL_MS = 500;

function log(message: string): void {
  process.stderr.write(`${new Date().toISOString()} ${message}\n`);
}

/**
 * Owns one VM: its VMM process, the agent channel, the local socket clients use, the TTL, and the
 * cleanup when any of them ends. One supervisor process per running VM.
 */
export class Supervisor {
  private vmm: LaunchedVmm | null = null;
  private guard: DeathGuard | null = null;
  private guest: FrameChannel | null = null;
  private agent: OpeningSession | null = null;
  private router: StreamRouter | null = null;
  private server: Server | null = null;
  private readonly clients = new Set<LocalClient>();
  private hello: HelloAck | null = null;
  private bootFailure: ((error: PyroError) => void) | null = null;
  private ending: Promise<void> | null = null;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly timings: Record<string, number> = {};
  private readonly expiry: ExpiryClock;
  private readonly control: ControlHandler;

  constructor(
    private readonly config: SupervisorConfig,
    private readonly backend: MachineDriver,
    private readonly readyFd: number | null,
  ) {
    this.expiry = new ExpiryClock(config.idleTtlMs, config.expiresAtMs, () => this.expire(), config.dir);
    this.control = new ControlHandler(() => this.router, {
      vm: { pause: () => this.pause("requested"), fork: (dir, copies) => this.fork(dir, copies) },
      disk: () => this.diskSnapshots(),
      expiry: this.expiry,
    });
  }

  async run(): Promise<void> {
    try {
      await this.boot();
    } catch (error) {
      const pyroError = toPyroError(error);
      log(`boot failed: ${pyroError.code} ${pyroError.message}`);
      this.report({
        ok: false,
        code: pyroError.code,
        message: pyroError.message,
        details: pyroError.details,
      });
      await this.end("boot_failed", pyroError.message);
      return;
    }
    const hello = this.agentHello();
    this.report({
      ok: true,
      vmm_pid: this.vmm?.process.pid ?? 0,
      kernel_release: hello.kernelRelease,
      agent_version: hello.agentVersion,
      mode: hello.mode,
      timings: this.timings,
    });
    this.armTimers();
    log(`ready: kernel ${hello.kernelRelease}, agent ${hello.agentVersion}`);
  }

  private async boot(): Promise<void> {
    const started = Date.now();
    const lap = stopwatch(this.timings);
    const deadline = started + this.config.bootTimeoutMs;
    const maskDir = this.config.consoleMaskDir;
    const masker = maskDir === null ? null : new SecretMasker(readSecretValues(maskDir));
    this.vmm = await this.backend.launch({
      ...this.config.launch,
      ...(masker?.active === true ? { consoleFilter: masker } : {}),
    });
    lap("launch_ms");
    // From here on, this process dying by any means takes the VMM and its helpers with it.
    this.guard = startDeathGuard([this.vmm.process, ...this.vmm.helpers], exitPath(this.config.dir));
    this.vmm.process.once("exit", (code, signal) => {
      void this.end("vmm_exited", `VMM exited (code ${code}, signal ${signal})`, code, signal);
    });
    const stream = await this.vmm.connectAgent(deadline);
    lap("agent_ms");
    this.attachGuest(stream);
    // A resumed VM's shells and services are taken over before the agent speaks again.
    const saved = this.config.supervisorState;
    if (saved !== null) this.control.importState(readSupervisorState(saved));
    this.hello = await this.handshake(deadline, this.config.launch.restore !== undefined);
    if (saved !== null) {
      const { lost } = await this.control.reattach();
      for (const { port, message } of lost) log(`published port ${port.host_port} not restored: ${message}`);
    }
    lap("hello_ms");
    if (this.hello.mode === "guest") await this.identify(deadline);
    lap("identify_ms");
    await this.listen();
    this.timings.total_ms = Date.now() - started;
  }

  /** The VM's disks, their copies for a fork, the agent and the VMM, lent to a save. */
  private savable(): SavableVm {
    const control = this.vmm?.control ?? null;
    if (control === null || this.agent === null)
      throw new PyroError("VM_NOT_RUNNING", `the ${this.backend.name} backend cannot save a running VM`);
    const root = this.backend.disk.imageFile(this.config.launch.dir);
    const workspace = this.config.launch.workspaceDisk;
    const image = this.backend.workspaceImage;
    return {
      agent: this.agent,
      control,
      exportState: () => this.control.exportState(),
      disks: [
        ...(root === null ? [] : [{ role: "root_disk" as const, path: root }]),
        ...(workspace === null ? [] : [{ role: "workspace_disk" as const, path: workspace }]),
      ],
      copyDisk: async (role, from, to) => {
        if (role === "root_disk") await this.backend.disk.copy(dirname(from), dirname(to));
        else if (image === null) throw new PyroError("INTERNAL", "a workspace disk without its format");
        else await image.copy(from, to);
      },
    };
  }

  /** Saves the VM into the pause folder, then ends it: the host's memory is freed, the state kept. */
  private async pause(reason: SavedVmManifest["reason"]): Promise<{ save_ms: number }> {
    const dir = this.config.pauseDir;
    if (dir === null) throw new PyroError("INVALID_ARGUMENT", "this VM cannot be paused (it is one-shot)");
    const manifest = await saveForPause(this.savable(), dir, reason);
    log(`paused (${reason}): state saved in ${manifest.save_ms} ms`);
    // After the reply has gone out: the VM's processes end, the saved state stays.
    setTimeout(() => void this.end("paused", `paused (${reason.replace("_", " ")})`), 0);
    return { save_ms: manifest.save_ms };
  }

  private async fork(dir: string, copies: DiskCopies): Promise<{ save_ms: number }> {
    const manifest = await saveForFork(this.savable(), dir, copies);
    return { save_ms: manifest.save_ms };
  }

  /** Live snapshots of the workspace disk: the agent freezes /workspace, the VMM snapshots it. */
  private diskSnapshots(): DiskSnapshots {
    const control = this.vmm?.control ?? null;
    if (this.config.workspaceDevice === null || control === null || this.agent === null)
      return NO_DISK_SNAPSHOTS;
    return frozenDiskSnapshots(this.agent, control);
  }

  /** Fresh entropy, hostname and machine id (and the workspace disk mounted) before any command runs. */
  private async identify(deadline: number): Promise<void> {
    const { hostname, machineId } = this.config.identity;
    await this.agent?.identify(
      {
        hostname,
        machineId: machineId ?? randomBytes(16).toString("hex"),
        entropy: randomBytes(IDENTITY_ENTROPY_BYTES),
        ...(this.config.workspaceDevice === null ? {} : { workspaceDevice: this.config.workspaceDevice }),
      },
      Math.max(1, deadline - Date.now()),
    );
  }

  private attachGuest(stream: Duplex): void {
    const guest = new FrameChannel(stream, {
      onFrame: (frame) => this.fromGuest(frame),
      onProtocolError: (error) => {
        log(`guest protocol error: ${error.message}`);
        // During the handshake the caller learns the reason, not only that the VM went away.
        this.bootFailure?.(new PyroError("PROTOCOL_ERROR", `the guest broke the protocol: ${error.message}`));
        void this.end("protocol_error", `the guest broke the protocol: ${error.message}`);
      },
      onClose: () => {
        agent.end(
          new PyroError("VM_BOOT_FAILED", "the agent channel closed", { details: this.consoleLog() }),
        );
        if (this.ending === null) void this.stop("vmm_exited", "the agent channel closed");
      },
    });
    // The agent has no reason to give up on its only host: an ERROR on stream 0 is a broken guest.
    // Guest text, repeated to every client and kept in exit.json: bounded.
    const agent = new OpeningSession(guest, (error) => {
      throw new FrameError("BAD_MESSAGE", `agent error ${boundedText(`${error.code}: ${error.message}`)}`);
    });
    this.guest = guest;
    this.agent = agent;
    this.router = new StreamRouter(guest);
  }

  /**
   * HELLO to the agent; fails on the boot deadline, a broken guest, or a VMM that exits first.
   * After a restore it resumes the agent's session: its processes and streams carry on.
   */
  private handshake(deadline: number, resume: boolean): Promise<HelloAck> {
    const agent = this.agent;
    if (agent === null) return Promise.reject(new PyroError("INTERNAL", "no agent channel"));
    const consoleLog = this.consoleLog();
    return new Promise<HelloAck>((resolve, reject) => {
      this.bootFailure = reject;
      this.vmm?.process.once("exit", () =>
        reject(new PyroError("VM_BOOT_FAILED", "the VM exited while booting", { details: consoleLog })),
      );
      agent
        .hello({
          client: "pyro-supervisor",
          hostTimeMs: Date.now(),
          resume,
          timeoutMs: Math.max(0, deadline - Date.now()),
          timeoutError: () =>
            new PyroError(
              "VM_BOOT_TIMEOUT",
              `the guest agent did not answer within ${this.config.bootTimeoutMs} ms`,
              { details: consoleLog },
            ),
        })
        .then(resolve, reject);
    }).finally(() => {
      this.bootFailure = null;
    });
  }

  /** Where a failed boot's story is told, for its error details. */
  private consoleLog(): { console_log: string } {
    return { console_log: this.config.launch.files.consoleLog };
  }

  private agentHello(): HelloAck {
    if (this.hello === null) throw new PyroError("INTERNAL", "the agent has not answered yet");
    return this.hello;
  }

  private fromGuest(frame: Frame): void {
    if (frame.stream === 0) this.agent?.onFrame(frame);
    else this.router?.fromGuest(frame);
  }

  private listen(): Promise<void> {
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    const previousUmask = process.umask(0o077); // the socket is owner-only
    return new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.config.supervisorSocket, () => {
        process.umask(previousUmask);
        resolve();
      });
    });
  }

  private accept(socket: Socket): void {
    if (this.ending !== null) {
      socket.destroy();
      return;
    }
    const channel = new FrameChannel(socket, {
      onFrame: (frame) => this.fromClient(client, frame),
      onProtocolError: (error) => log(`client protocol error: ${error.message}`),
      onClose: () => {
        this.clients.delete(client);
        this.router?.dropClient(client);
      },
    });
    const client: LocalClient = {
      channel,
      session: new AcceptingSession(channel, {
        ack: () => this.agentHello(),
        onShutdown: () => this.stop("shutdown", "shut down on request"),
      }),
    };
    this.clients.add(client);
  }

  private fromClient(client: LocalClient, frame: Frame): void {
    if (client.session.onFrame(frame)) return;
    // Activity: anything past the session's own frames (a HELLO to ask the deadline is not);
    // the control handler counts its requests itself, all but a deadline query.
    if (frame.type !== MessageType.CONTROL) this.expiry.touch();
    if (frame.type === MessageType.CONTROL) {
      void this.control.handle(frame.body).then((reply) =>
        client.channel.send({
          type: MessageType.CONTROL_REPLY,
          stream: frame.stream,
          flags: 0,
          body: reply,
        }),
      );
      return;
    }
    this.router?.fromClient(client, frame);
  }

  private armTimers(): void {
    this.expiry.start();
    if (this.config.ephemeral) {
      this.timers.push(setInterval(() => this.maybeEndEphemeral(), OWNER_POLL_MS));
    }
  }

  /** The TTL ran out: pause when asked to and the VM can be saved, else (or if the pause fails) stop. */
  private expire(): void {
    const idle = this.expiry.idleMs;
    const detail =
      idle === null ? "TTL expired" : `TTL expired: no activity for ${Math.round(idle / 1000)} s`;
    // A workspace is paused, never lost; a VM that cannot be paused (no pause folder, or a backend
    // without memory snapshots) is stopped.
    if (this.config.onExpire !== "pause" || this.config.pauseDir === null || this.vmm?.control == null) {
      void this.stop("ttl_expired", detail);
      return;
    }
    log(`${detail}; pausing`);
    this.pause("ttl_expired").catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      log(`pause failed: ${message}`);
      void this.stop("ttl_expired", `${detail} (the pause failed: ${boundedText(message, 512)})`);
    });
  }

  private maybeEndEphemeral(): void {
    if (this.ending !== null) return;
    const ownerAlive = this.config.ownerPid !== null && isProcessAlive(this.config.ownerPid);
    if (!ownerAlive) void this.stop("owner_exited", "the process that started this one-shot VM is gone");
  }

  /** Orderly stop: ask the agent to sync and power off, then make sure the VMM is gone. */
  stop(reason: VmExit["reason"], detail: string): Promise<void> {
    if (this.ending !== null) return this.ending;
    const vmm = this.vmm;
    if (vmm === null || vmm.process.exitCode !== null || vmm.process.signalCode !== null) {
      return this.end(reason, detail);
    }
    const stopping = (async () => {
      const exited = new Promise<void>((resolve) => vmm.process.once("exit", () => resolve()));
      if (this.agent !== null && this.guest !== null && !this.guest.isClosed) {
        await Promise.race([this.agent.shutdown(SHUTDOWN_GRACE_MS), exited]);
        await Promise.race([exited, delay(1_000)]);
      }
      if (vmm.process.exitCode === null && vmm.process.signalCode === null) {
        vmm.process.kill("SIGKILL");
        await Promise.race([exited, delay(SHUTDOWN_GRACE_MS)]);
      }
    })();
    this.ending = stopping.then(() =>
      this.finish(reason, detail, vmm.process.exitCode, vmm.process.signalCode),
    );
    return this.ending;
  }

  private end(
    reason: VmExit["reason"],
    detail: string,
    code: number | null = null,
    signal: NodeJS.Signals | null = null,
  ): Promise<void> {
    if (this.ending !== null) return this.ending;
    const vmm = this.vmm;
    if (vmm !== null && vmm.process.exitCode === null && vmm.process.signalCode === null)
      vmm.process.kill("SIGKILL");
    this.ending = Promise.resolve().then(() => this.finish(reason, detail, code, signal));
    return this.ending;
  }

  private finish(reason: VmExit["reason"], detail: string, code: number | null, signal: string | null): void {
    log(`ending: ${reason}: ${detail}`);
    for (const helper of this.vmm?.helpers ?? [])
      if (helper.exitCode === null && helper.signalCode === null) helper.kill("SIGKILL");
    this.guard?.release();
    this.control.endAll(`the VM stopped: ${detail}`);
    for (const timer of this.timers) clearTimeout(timer);
    this.expiry.stop();
    const clientCode = reason === "protocol_error" ? "PROTOCOL_ERROR" : "VM_EXITED";
    for (const client of this.clients) {
      client.channel.closeWith(encode.error(0, { code: clientCode, message: `the VM stopped: ${detail}` }));
    }
    this.server?.close();
    this.guest?.close();
    const files = this.config.launch.files;
    rmSync(this.config.supervisorSocket, { force: true });
    rmSync(files.agentSocket, { force: true });
    if (this.config.ephemeral && reason !== "boot_failed") {
      rmSync(this.config.dir, { recursive: true, force: true });
    } else {
      const exit: VmExit = {
        reason,
        at: new Date().toISOString(),
        detail,
        vmm_exit_code: code,
        vmm_signal: signal,
      };
      writeJsonAtomic(exitPath(this.config.dir), exit);
    }
    // Let the final frames flush, then leave.
    setTimeout(() => process.exit(0), 50).unref();
  }

  private report(report: ReadyReport): void {
    if (this.readyFd === null) return;
    try {
      writeSync(this.readyFd, `${JSON.stringify(report)}\n`);
      closeSync(this.readyFd);
    } catch {
      // The starter is gone; an ephemeral VM will notice its owner is dead.
    }
  }
}

/** Records the time since the previous lap under each name it is given. */
function stopwatch(into: Record<string, number>): (name: string) => void {
  let last = Date.now();
  return (name) => {
    const now = Date.now();
    into[name] = now - last;
    last = now;
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
