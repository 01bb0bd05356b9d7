import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FrameChannel } from "../../src/agent-protocol/channel.js";
import { MessageType } from "../../src/agent-protocol/constants.js";
import type { Frame } from "../../src/agent-protocol/frame.js";
import { encodeFs, type FsRequestType } from "../../src/agent-protocol/fs-messages.js";
import { decode, encode, type ExitStatus } from "../../src/agent-protocol/messages.js";
import { OpeningSession } from "../../src/agent-protocol/session.js";
import { ensureEnvironment } from "../../src/environments/index.js";
import { PyroError } from "../../src/errors/index.js";
import { agentBinaryPath } from "../../src/machine/agent-binary.js";
import { composeGuestInitrd } from "../../src/machine/guest-initrd.js";
import { selectMachine } from "../../src/machine/select.js";
import type { LaunchedVmm } from "../../src/machine/types.js";
import { useTempPyroHome } from "../helpers/pyro-home.js";
import { installedGuestKernel } from "./guest-env.js";

/**
 * The agent's session-control messages against a real guest, driven through the machine driver and
 * the protocol's OpeningSession directly (the supervisor never lets a client speak on stream 0).
 */

interface StreamLog {
  pid: number | null;
  stdout: Buffer[];
  exit: ExitStatus | null;
  /** The code of an ERROR that ended the stream. */
  error: string | null;
  /** Any other frame that ended it (FS_DONE of a file request). */
  done: boolean;
  /** When each frame arrived (ms, monotonic), to tell what came before and after a QUIESCED. */
  at: number[];
}

/** The host end of one agent connection: the session on stream 0, a log per command stream. */
class RawAgent {
  readonly session: OpeningSession;
  private readonly channel: FrameChannel;
  private readonly logs = new Map<number, StreamLog>();
  private nextStream = 1;
  /** Every frame that arrived after the last QUIESCED, whatever its stream. */
  framesSinceQuiesced: Frame[] = [];
  private quiesced = false;

  constructor(stream: Duplex) {
    this.channel = new FrameChannel(stream, {
      onFrame: (frame) => this.onFrame(frame),
      onProtocolError: (error) => {
        throw error;
      },
      onClose: () => this.session.end(new PyroError("AGENT_UNREACHABLE", "the agent channel closed")),
    });
    this.session = new OpeningSession(this.channel, (error) => {
      throw new PyroError("PROTOCOL_ERROR", `agent error ${error.code}: ${error.message}`);
    });
  }

  hello(resume: boolean): Promise<unknown> {
    this.quiesced = false;
    return this.session.hello({
      client: "pyro-test",
      hostTimeMs: Date.now(),
      resume,
      timeoutMs: 30_000,
      timeoutError: () => new Error("no HELLO_ACK"),
    });
  }

  /** Starts a shell command; returns its stream id. */
  exec(shell: string): number {
    const stream = this.nextStream++;
    this.logs.set(stream, { pid: null, stdout: [], exit: null, error: null, done: false, at: [] });
    this.channel.send(encode.exec(stream, { shell, env: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], cwd: "/" }));
    return stream;
  }

  /** Sends a file request on a new stream; returns that stream's log. */
  fileRequest(type: FsRequestType, path: string): StreamLog {
    const stream = this.nextStream++;
    const log: StreamLog = { pid: null, stdout: [], exit: null, error: null, done: false, at: [] };
    this.logs.set(stream, log);
    this.channel.send(encodeFs.request(type, stream, { path: Buffer.from(path), parents: false }));
    return log;
  }

  signal(stream: number, signo: number): void {
    this.channel.send(encode.signal(stream, signo));
  }

  log(stream: number): StreamLog {
    const log = this.logs.get(stream);
    if (log === undefined) throw new Error(`no stream ${stream}`);
    return log;
  }

  async until(what: string, done: () => boolean, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Runs a command to its end; its stdout as text. */
  async run(shell: string): Promise<string> {
    const stream = this.exec(shell);
    const log = this.log(stream);
    await this.until(`EXIT of ${shell}`, () => log.exit !== null);
    expect(log.error, `${shell} error`).toBeNull();
    expect(log.exit?.exitCode, `${shell} exit code`).toBe(0);
    return Buffer.concat(log.stdout).toString("utf8");
  }

  close(): void {
    this.channel.close();
  }

  private onFrame(frame: Frame): void {
    if (this.quiesced) this.framesSinceQuiesced.push(frame);
    if (frame.type === MessageType.QUIESCED) {
      this.quiesced = true;
      this.framesSinceQuiesced = [];
    }
    if (frame.stream === 0) return this.session.onFrame(frame);
    const log = this.logs.get(frame.stream);
    if (log === undefined)
      throw new Error(`frame 0x${frame.type.toString(16)} on unknown stream ${frame.stream}`);
    log.at.push(performance.now());
    if (frame.type === MessageType.STARTED) log.pid = decode.started(frame.body);
    else if (frame.type === MessageType.STDOUT) log.stdout.push(frame.body);
    else if (frame.type === MessageType.EXIT) log.exit = decode.exit(frame.body);
    else if (frame.type === MessageType.ERROR) log.error = decode.error(frame.body).code;
    else if (frame.type === MessageType.FS_DONE) log.done = true;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe("agent session control in a real guest", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  let vmm: LaunchedVmm | null = null;
  let agent: RawAgent;
  let workspaceDevice: string;

  beforeAll(async () => {
    home = useTempPyroHome();
    const guestKernel = await installedGuestKernel();
    const agentBinary = agentBinaryPath();
    const choice = await selectMachine({
      requested: "qemu",
      allowHostCompat: false,
      needsNetwork: false,
      context: {
        agentBinary,
        measure: true,
        stateDir: home.home,
        artifacts: async () => {
          const installed = await ensureEnvironment("debian:12-base");
          return {
            kernel: installed.kernelPath,
            initramfs: composeGuestInitrd(installed.initramfsPath, agentBinary, home.home),
            rootfs: installed.rootfsPath,
            kernelDigest: installed.manifest.files.kernel.sha256,
          };
        },
      },
    });
    if (choice.boot === null) throw new Error("the qemu driver chose no guest to boot");
    const dir = join(home.home, "vm");
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    await choice.driver.disk.create(dir, { path: choice.boot.rootfs, format: "raw" });
    const image = choice.driver.workspaceImage;
    if (image === null) throw new Error("the qemu driver has no workspace image format");
    workspaceDevice = image.device;
    const workspaceDisk = join(dir, "workspace.qcow2");
    await image.create(workspaceDisk, { virtualBytes: 256 << 20, seedTree: null, cacheDir: home.home });
    vmm = await choice.driver.launch({
      id: `agentctl-${process.pid}`,
      vcpuCount: 1,
      memMib: 256,
      boot: choice.boot,
      agentBinary,
      dir,
      files: { agentSocket: join(dir, "agent.sock"), consoleLog: join(dir, "console.log") },
      accel: choice.accel,
      network: null,
      workspaceDisk,
    });
    const consoleLog = join(dir, "console.log");
    agent = new RawAgent(await vmm.connectAgent(Date.now() + 120_000));
    await agent.hello(false).catch((error: unknown) => {
      // What the guest and QEMU said is the only clue to a failed boot.
      const console = existsSync(consoleLog) ? readFileSync(consoleLog, "utf8").slice(-2_000) : "";
      throw new Error(`${String(error)}\nqemu: ${vmm?.diagnostics() ?? ""}\nconsole: ${console}`);
    });
    expect(agent.session.peer?.mode).toBe("guest");
    expect((await agent.run("uname -r")).trim()).toBe(guestKernel);
  });

  afterAll(() => {
    agent?.close();
    vmm?.process.kill("SIGKILL");
    for (const helper of vmm?.helpers ?? []) helper.kill("SIGKILL");
    home.cleanup();
  });

  it("FREEZE of a /workspace that is no mount point is refused with NOT_A_MOUNT; THAW answers", async () => {
    await expect(agent.session.freeze(1_000)).rejects.toMatchObject({
      details: { agent_code: "NOT_A_MOUNT" },
    });
    await agent.session.thaw(5_000);
    // The session is unharmed.
    expect((await agent.run("echo ok")).trim()).toBe("ok");
  });

  it("IDENTIFY gives the guest its hostname, machine id, fresh entropy and its workspace disk", async () => {
    const before = await agent.run("hostname; cat /etc/machine-id 2>/dev/null; true");
    const hostname = `pyro-${randomBytes(4).toString("hex")}`;
    const machineId = randomBytes(16).toString("hex");
    expect(before).not.toContain(hostname);
    expect(await agent.run("grep -c ' /workspace ' /proc/mounts; true")).toBe("0\n");
    await agent.session.identify({ hostname, machineId, entropy: randomBytes(64), workspaceDevice }, 10_000);
    const after = await agent.run("hostname; cat /etc/machine-id; stat -c %a /etc/machine-id");
    expect(after).toBe(`${hostname}\n${machineId}\n444\n`);
    expect(await agent.run("grep ' /workspace ' /proc/mounts | cut -d' ' -f1,3")).toBe(
      `${workspaceDevice} ext4\n`,
    );
    // After a restore the disk is mounted already: IDENTIFY leaves it be.
    await agent.session.identify({ hostname, machineId, entropy: randomBytes(32), workspaceDevice }, 10_000);
    expect(await agent.run("grep -c ' /workspace ' /proc/mounts")).toBe("1\n");
    // A value the agent would refuse never leaves the host.
    await expect(
      agent.session.identify({ hostname: "a.b", machineId, entropy: randomBytes(64) }, 10_000),
    ).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });

  it("FREEZE of the mounted workspace holds writers until THAW, or until its timeout", async () => {
    await agent.session.freeze(10_000);
    const held = agent.log(agent.exec("echo one > /workspace/frozen; sync; echo written"));
    // The agent's own writes are refused rather than left to block it; reads still work.
    const mkdir = agent.fileRequest(MessageType.FS_MKDIR, "made-while-frozen");
    const list = agent.fileRequest(MessageType.FS_LIST, "");
    await agent.until("answers to file requests", () => mkdir.error !== null && list.done);
    expect(mkdir.error).toBe("FROZEN");
    await sleep(700);
    expect(held.exit).toBeNull();
    await agent.session.thaw(5_000);
    await agent.until("the held writer", () => held.exit !== null);
    expect(Buffer.concat(held.stdout).toString()).toBe("written\n");

    await agent.session.freeze(500);
    const started = performance.now();
    const late = agent.log(agent.exec("echo two > /workspace/frozen; sync; echo written"));
    await agent.until("the writer after the freeze timed out", () => late.exit !== null);
    expect(performance.now() - started).toBeGreaterThan(400);
    expect(await agent.run("cat /workspace/frozen")).toBe("two\n");
  });

  it("QUIESCE silences a running command; HELLO RESUME brings the same command back", async () => {
    const stream = agent.exec("while true; do echo x; done");
    const log = agent.log(stream);
    await agent.until("output of the loop", () => log.stdout.length >= 3);
    await agent.session.quiesce(10_000);
    const quiescedAt = performance.now();
    await sleep(400);
    expect(agent.framesSinceQuiesced).toEqual([]);
    const framesBefore = log.at.length;

    await agent.hello(true);
    await agent.until("output after RESUME", () => log.at.length >= framesBefore + 3);
    expect(log.at.slice(framesBefore).every((t) => t > quiescedAt + 400)).toBe(true);
    expect(log.exit).toBeNull();
    // Still the command that ran before the quiesce: killing it ends this very stream.
    agent.signal(stream, 9);
    await agent.until("EXIT of the loop", () => log.exit !== null);
    expect(log.exit).toMatchObject({ exitCode: -1, signal: 9 });
  });

  it("a command that ends while quiesced keeps its output and EXIT until the host is back", async () => {
    const stream = agent.exec("sleep 0.2; echo done");
    const log = agent.log(stream);
    await agent.until("STARTED", () => log.pid !== null);
    await agent.session.quiesce(10_000);
    await sleep(1_500); // the command exits meanwhile
    expect(agent.framesSinceQuiesced).toEqual([]);
    expect(log.exit).toBeNull();
    await agent.hello(true);
    await agent.until("EXIT after RESUME", () => log.exit !== null);
    expect(Buffer.concat(log.stdout).toString()).toBe("done\n");
    expect(log.exit?.exitCode).toBe(0);
  });
});
