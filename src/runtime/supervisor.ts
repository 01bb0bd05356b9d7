import { createServer, type Server, type Socket } from "node:net";
import { rmSync, writeSync, closeSync } from "node:fs";
import type { Duplex } from "node:stream";
import { MessageType, PROTOCOL_VERSION } from "../agent-protocol/constants.js";
import { FrameChannel } from "../agent-protocol/channel.js";
import { FrameError, type Frame } from "../agent-protocol/frame.js";
import { decode, encode, type HelloAck } from "../agent-protocol/messages.js";
import type { Backend, LaunchedVmm } from "../machine/types.js";
import { PyroError, toPyroError } from "../errors/index.js";
import { writeJsonAtomic } from "../platform/atomic-file.js";
import { SecretMasker } from "../secrets/masker.js";
import { readSecretValues } from "../secrets/values.js";
import { isProcessAlive } from "../platform/processes.js";
import type { ReadyReport, SupervisorConfig } from "./config.js";
import { exitPath, type VmExit } from "./exit-note.js";
import { boundedText } from "./bounded-text.js";
import { ControlHandler } from "./control.js";
import { startDeathGuard, type DeathGuard } from "./death-guard.js";
import { StreamRouter, type ClientConnection } from "./router.js";

const SHUTDOWN_GRACE_MS = 5_000;
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
  private router: StreamRouter | null = null;
  private server: Server | null = null;
  private readonly clients = new Set<ClientConnection>();
  private hello: HelloAck | null = null;
  private helloWaiter: ((ack: HelloAck) => void) | null = null;
  private bootFailure: ((error: PyroError) => void) | null = null;
  private shutdownAckWaiter: (() => void) | null = null;
  private ending: Promise<void> | null = null;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly control = new ControlHandler(() => this.router);

  constructor(
    private readonly config: SupervisorConfig,
    private readonly backend: Backend,
    private readonly readyFd: number | null,
  ) {}

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
    const hello = this.hello as HelloAck;
    this.report({
      ok: true,
      vmm_pid: this.vmm?.process.pid ?? 0,
      kernel_release: hello.kernelRelease,
      agent_version: hello.agentVersion,
      mode: hello.mode,
    });
    this.armTimers();
    log(`ready: kernel ${hello.kernelRelease}, agent ${hello.agentVersion}`);
  }

  private async boot(): Promise<void> {
    const deadline = Date.now() + this.config.bootTimeoutMs;
    const maskDir = this.config.consoleMaskDir;
    const masker = maskDir === null ? null : new SecretMasker(readSecretValues(maskDir));
    this.vmm = await this.backend.launch({
      ...this.config.launch,
      ...(masker?.active === true ? { consoleFilter: masker } : {}),
    });
    // From here on, this process dying by any means takes the VMM and its helpers with it.
    this.guard = startDeathGuard([this.vmm.process, ...this.vmm.helpers], exitPath(this.config.dir));
    this.vmm.process.once("exit", (code, signal) => {
      void this.end("vmm_exited", `VMM exited (code ${code}, signal ${signal})`, code, signal);
    });
    const stream = await this.vmm.connectAgent(deadline);
    this.attachGuest(stream);
    await this.handshake(deadline);
    await this.listen();
  }

  private attachGuest(stream: Duplex): void {
    this.guest = new FrameChannel(stream, {
      onFrame: (frame) => this.fromGuest(frame),
      onProtocolError: (error) => {
        log(`guest protocol error: ${error.message}`);
        // During the handshake the caller learns the reason, not only that the VM went away.
        this.bootFailure?.(new PyroError("PROTOCOL_ERROR", `the guest broke the protocol: ${error.message}`));
        void this.end("protocol_error", `the guest broke the protocol: ${error.message}`);
      },
      onClose: () => {
        if (this.ending === null) void this.stop("vmm_exited", "the agent channel closed");
      },
    });
    this.router = new StreamRouter(this.guest);
  }

  private handshake(deadline: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          reject(
            new PyroError(
              "VM_BOOT_TIMEOUT",
              `the guest agent did not answer within ${this.config.bootTimeoutMs} ms`,
              {
                details: { console_log: this.config.launch.files.consoleLog },
              },
            ),
          );
        },
        Math.max(0, deadline - Date.now()),
      );
      this.bootFailure = (error) => {
        clearTimeout(timer);
        reject(error);
      };
      this.helloWaiter = (ack) => {
        clearTimeout(timer);
        this.bootFailure = null;
        this.hello = ack;
        resolve();
      };
      this.vmm?.process.once("exit", () => {
        clearTimeout(timer);
        reject(
          new PyroError("VM_BOOT_FAILED", "the VM exited while booting", {
            details: { console_log: this.config.launch.files.consoleLog },
          }),
        );
      });
      this.guest?.send(
        encode.hello({ version: PROTOCOL_VERSION, client: "pyro-supervisor", hostTimeMs: Date.now() }),
      );
    });
  }

  private fromGuest(frame: Frame): void {
    if (frame.stream !== 0) {
      this.router?.fromGuest(frame);
      return;
    }
    switch (frame.type) {
      case MessageType.HELLO_ACK: {
        const ack = decode.helloAck(frame.body);
        if (ack.version !== PROTOCOL_VERSION)
          throw new FrameError("BAD_MESSAGE", `agent speaks version ${ack.version}`);
        this.helloWaiter?.(ack);
        this.helloWaiter = null;
        return;
      }
      case MessageType.SHUTDOWN_ACK:
        this.shutdownAckWaiter?.();
        return;
      case MessageType.ERROR: {
        const error = decode.error(frame.body);
        // Guest text, repeated to every client and kept in exit.json: bounded.
        throw new FrameError("BAD_MESSAGE", `agent error ${boundedText(`${error.code}: ${error.message}`)}`);
      }
      default:
        throw new FrameError(
          "BAD_MESSAGE",
          `unexpected guest frame 0x${frame.type.toString(16)} on stream 0`,
        );
    }
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
    const client: ClientConnection = {
      greeted: false,
      channel: new FrameChannel(socket, {
        onFrame: (frame) => this.fromClient(client, frame),
        onProtocolError: (error) => log(`client protocol error: ${error.message}`),
        onClose: () => {
          this.clients.delete(client);
          this.router?.dropClient(client);
        },
      }),
    };
    this.clients.add(client);
  }

  private fromClient(client: ClientConnection, frame: Frame): void {
    if (frame.type === MessageType.HELLO) {
      const hello = decode.hello(frame.body);
      if (hello.version !== PROTOCOL_VERSION) {
        client.channel.send(
          encode.error(0, { code: "VERSION_MISMATCH", message: `speaks ${PROTOCOL_VERSION}` }),
        );
        client.channel.close();
        return;
      }
      client.greeted = true;
      client.channel.send(encode.helloAck(this.hello as HelloAck));
      return;
    }
    if (!client.greeted) throw new FrameError("BAD_MESSAGE", "HELLO must come first");
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
    if (frame.type === MessageType.SHUTDOWN) {
      void this.stop("shutdown", "shut down on request").then(() =>
        client.channel.send(encode.shutdownAck()),
      );
      return;
    }
    this.router?.fromClient(client, frame);
  }

  private armTimers(): void {
    const ttlMs = this.config.expiresAtMs - Date.now();
    this.timers.push(setTimeout(() => void this.stop("ttl_expired", "TTL expired"), Math.max(0, ttlMs)));
    if (this.config.ephemeral) {
      this.timers.push(setInterval(() => this.maybeEndEphemeral(), OWNER_POLL_MS));
    }
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
      if (this.guest !== null && !this.guest.isClosed) {
        const acked = new Promise<void>((resolve) => (this.shutdownAckWaiter = resolve));
        this.guest.send(encode.shutdown());
        await Promise.race([acked, exited, delay(SHUTDOWN_GRACE_MS)]);
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
    const clientCode = reason === "protocol_error" ? "PROTOCOL_ERROR" : "VM_EXITED";
    for (const client of this.clients) {
      client.channel.send(encode.error(0, { code: clientCode, message: `the VM stopped: ${detail}` }));
      client.channel.close();
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

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
