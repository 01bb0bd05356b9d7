/**
 * What the VMM's confinement costs: the exec round trip of a QEMU launched as pyro launches it
 * (seccomp sandbox, and an unprivileged user when root) against the same VM without them,
 * interleaved so drift in the machine's load hits both alike.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { AgentClient } from "../dist/agent-protocol/client.js";
import { connectUnixWithRetry } from "../dist/machine/connect-unix.js";
import { qemuBinary } from "../dist/machine/qemu/binary.js";
import { driverByName } from "../dist/machine/registry.js";
import { qemuCommandLine } from "../dist/machine/qemu/command-line.js";
import { hostTscKhz } from "../dist/machine/qemu/host-tsc.js";
import { agentBinaryPath } from "../dist/machine/agent-binary.js";
import { composeGuestInitrd } from "../dist/machine/guest-initrd.js";
import { ensureEnvironment } from "../dist/environments/index.js";
import { vmmUser } from "../dist/platform/vmm-user.js";
import { formatMs, median, report } from "./stats.js";

/** Boots one VM directly (no supervisor) and returns an agent client plus a way to stop it. */
async function bootDirect(home, environment, agent, hardened) {
  const dir = mkdtempSync(join(home, hardened ? "hardened-" : "plain-"));
  const files = { agentSocket: join(dir, "a.sock"), consoleLog: join(dir, "console.log") };
  const boot = {
    kernel: environment.kernelPath,
    initramfs: composeGuestInitrd(environment.initramfsPath, agent, home),
    rootfs: environment.rootfsPath,
  };
  const id = `bench-${hardened ? "h" : "p"}-${process.pid}`;
  const disk = driverByName("qemu").disk;
  await disk.create(dir, { path: boot.rootfs, format: "raw" });
  const args = qemuCommandLine({
    id,
    accel: "tcg",
    vcpuCount: 1,
    memMib: 512,
    kernel: boot.kernel,
    initrd: boot.initramfs,
    overlay: disk.imageFile(dir),
    workspaceDisk: null,
    agentSocket: files.agentSocket,
    qmpSocket: join(dir, "qmp.sock"),
    memory: { kind: "anonymous" },
    incoming: false,
    runAs: hardened ? (vmmUser()?.name ?? null) : null,
    tscKhz: hostTscKhz(),
    network: null,
  });
  const argv = hardened ? args : withoutSandbox(args);
  const child = spawn(qemuBinary(), argv, { stdio: ["ignore", "ignore", "ignore"] });
  const stream = await connectUnixWithRetry(
    files.agentSocket,
    Date.now() + 120_000,
    () => child.exitCode === null,
  );
  const client = await AgentClient.connect(stream, { client: "bench", timeoutMs: 120_000 });
  return {
    client,
    stop() {
      client.close();
      child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function withoutSandbox(args) {
  const index = args.indexOf("-sandbox");
  return index < 0 ? args : [...args.slice(0, index), ...args.slice(index + 2)];
}

async function execOnce(client) {
  const started = performance.now();
  const result = await client.exec({ args: ["/bin/true"], env: ["PATH=/usr/bin:/bin"], cwd: "/" }).result;
  if (result.exitCode !== 0) throw new Error("exec of /bin/true failed");
  return performance.now() - started;
}

export async function benchHardening({ quick, home }) {
  const environment = await ensureEnvironment("debian:12");
  const agent = agentBinaryPath();
  const hardened = await bootDirect(home, environment, agent, true);
  const plain = await bootDirect(home, environment, agent, false);
  try {
    // Warm both translation caches before measuring.
    for (let i = 0; i < 5; i += 1) await Promise.all([execOnce(hardened.client), execOnce(plain.client)]);
    const hardenedSamples = [];
    const plainSamples = [];
    for (let i = 0; i < (quick ? 10 : 40); i += 1) {
      hardenedSamples.push(await execOnce(hardened.client));
      plainSamples.push(await execOnce(plain.client));
    }
    const ratio = median(hardenedSamples) / median(plainSamples);
    report("VMM confinement (exec /bin/true round trip, agent channel, no supervisor)", [
      [
        `QEMU as pyro runs it (-sandbox${vmmUser() === null ? "" : ", -runas"}) (median)`,
        formatMs(median(hardenedSamples)),
      ],
      ["the same QEMU without them (median)", formatMs(median(plainSamples))],
      ["ratio confined / unconfined (target <= 1.05x)", `${ratio.toFixed(2)}x`],
    ]);
  } finally {
    hardened.stop();
    plain.stop();
  }
}
