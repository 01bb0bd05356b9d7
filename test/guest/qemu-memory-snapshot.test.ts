import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { once } from "node:events";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentClient } from "../../src/agent-protocol/client.js";
import { resolveInstalled } from "../../src/environments/index.js";
import { agentBinaryPath } from "../../src/machine/agent-binary.js";
import { composeGuestInitrd } from "../../src/machine/guest-initrd.js";
import { driverByName } from "../../src/machine/registry.js";
import type { DiskBase, LaunchSpec, LaunchedVmm, VmmControl } from "../../src/machine/types.js";
import { installedGuestKernel } from "./guest-env.js";

const driver = driverByName("qemu");
const MEM_MIB = 512;

interface Vm {
  dir: string;
  vmm: LaunchedVmm;
  control: VmmControl;
  client: AgentClient;
  /** Milliseconds from launch to the agent's HELLO_ACK. */
  readyMs: number;
}

let root: string;
let boot: { kernel: string; initramfs: string; rootfs: string };
let guestKernel: string;
const running: LaunchedVmm[] = [];

/** `base`: a disk to layer over, or (a saved VM's own disk, as a fork copies it) the folder to copy. */
async function launch(
  name: string,
  base: DiskBase | { copyOf: string },
  extra: Partial<LaunchSpec> = {},
): Promise<Vm> {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if ("copyOf" in base) await driver.disk.copy(base.copyOf, dir);
  else await driver.disk.create(dir, base);
  const started = Date.now();
  const vmm = await driver.launch({
    id: `ms-${name}`,
    vcpuCount: 1,
    memMib: MEM_MIB,
    boot,
    agentBinary: agentBinaryPath(),
    dir,
    files: { agentSocket: join(dir, "a.sock"), consoleLog: join(dir, "console.log") },
    accel: "tcg",
    network: null,
    workspaceDisk: null,
    ...extra,
  });
  running.push(vmm);
  const stream = await vmm.connectAgent(started + 60_000);
  // The first request goes out at once: a restored agent sends no greeting of its own.
  const client = await AgentClient.connect(stream, {
    client: "memory-snapshot-test",
    timeoutMs: 60_000,
    sendTime: true,
  });
  const readyMs = Date.now() - started;
  if (vmm.control === null) throw new Error("the qemu driver offers no VMM control");
  return { dir, vmm, control: vmm.control, client, readyMs };
}

async function sh(vm: Vm, script: string): Promise<string> {
  let out = "";
  const { result } = vm.client.exec(
    { args: ["/bin/sh", "-c", script], timeoutMs: 60_000 },
    { onStdout: (chunk) => void (out += chunk.toString("utf8")) },
  );
  const status = await result;
  if (status.exitCode !== 0) throw new Error(`${script} exited ${status.exitCode}: ${out}`);
  return out;
}

/** Saves a VM with the host disconnected from its agent, and stops its QEMU. */
async function saveAndStop(vm: Vm, stateFile: string): Promise<{ bytes: number; ms: number }> {
  vm.client.close();
  await new Promise((resolve) => setTimeout(resolve, 100));
  const saved = await vm.control.saveState(stateFile);
  await stop(vm);
  return saved;
}

async function stop(vm: Vm): Promise<void> {
  vm.client.close();
  const exited = once(vm.vmm.process, "exit");
  vm.vmm.process.kill("SIGKILL");
  await exited;
}

function memoryOf(pid: number): { rssKb: number; pssKb: number } {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(rollup)?.[1]);
  return { rssKb: field("Rss"), pssKb: field("Pss") };
}

const sha256 = (path: string): string => createHash("sha256").update(readFileSync(path)).digest("hex");
const median = (values: number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

beforeAll(async () => {
  guestKernel = await installedGuestKernel();
  const installed = await resolveInstalled("debian:12");
  if (installed === null) throw new Error("debian:12 is not installed");
  root = mkdtempSync("/tmp/pyro-ms-");
  boot = {
    kernel: installed.kernelPath,
    initramfs: composeGuestInitrd(installed.initramfsPath, agentBinaryPath(), root),
    rootfs: installed.rootfsPath,
  };
});

afterAll(async () => {
  for (const vmm of running)
    if (vmm.process.exitCode === null && vmm.process.signalCode === null) vmm.process.kill("SIGKILL");
  rmSync(root, { recursive: true, force: true });
});

describe("QEMU memory snapshots", () => {
  it("offers memory snapshots, pause and disk snapshots", () => {
    expect(driver.capabilities).toEqual({ memorySnapshot: true, pause: true, diskSnapshot: true });
  });

  it("restores two VMs at once from one template, each its own, the template's RAM file never changing", async () => {
    const ramFile = join(root, "template.ram");
    const stateFile = join(root, "template.state");
    const template = await launch("template", { path: boot.rootfs, format: "raw" }, { ramFile });
    expect((await sh(template, "uname -r")).trim()).toBe(guestKernel);
    const saved = await saveAndStop(template, stateFile);
    chmodSync(ramFile, 0o444);
    chmodSync(stateFile, 0o444);
    execFileSync("sync");
    const ramDigest = sha256(ramFile);
    // Blocks too: a hole punched into zeros would leave the digest as it was.
    const ramBlocks = statSync(ramFile).blocks;
    const savedDisk: DiskBase = { path: join(template.dir, "disk.qcow2"), format: "qcow2" };
    const restore = { kind: "template" as const, ramFile, stateFile };

    const [a, b] = await Promise.all([
      launch("a", savedDisk, { restore }),
      launch("b", savedDisk, { restore }),
    ]);
    if (a === undefined || b === undefined) throw new Error("unreachable");
    for (const vm of [a, b]) expect((await sh(vm, "uname -r")).trim()).toBe(guestKernel);
    // Restored QEMUs keep the seccomp filter (spawn denied) and, under root, the dropped user.
    const status = readFileSync(`/proc/${a.vmm.process.pid}/status`, "utf8");
    expect(status).toMatch(/^Seccomp:\s+2$/m);
    if (process.geteuid?.() === 0) expect(status).not.toMatch(/^Uid:\s+0\s/m);
    await sh(a, "echo only-a > /root/which && sync");
    expect(await sh(b, "cat /root/which 2>/dev/null || echo absent")).toBe("absent\n");
    // Both guests dirty and free most of their RAM; the template's file must not move by a byte.
    for (const vm of [a, b]) {
      await sh(
        vm,
        "dd if=/dev/urandom of=/dev/shm/fill bs=1M count=200 2>/dev/null; rm /dev/shm/fill; sync; echo 3 > /proc/sys/vm/drop_caches",
      );
    }
    // A VM restored from a template is saved whole (pause, fork) and restored into anonymous RAM.
    await sh(a, "echo in-ram > /dev/shm/proof");
    const full = join(root, "a.state");
    await saveAndStop(a, full);
    await stop(b);
    const a2 = await launch(
      "a2",
      { copyOf: a.dir },
      {
        restore: { kind: "full", stateFile: full },
      },
    );
    expect(await sh(a2, "cat /dev/shm/proof /root/which")).toBe("in-ram\nonly-a\n");
    await stop(a2);
    expect(sha256(ramFile)).toBe(ramDigest);
    expect(statSync(ramFile).blocks).toBe(ramBlocks);

    // Figures for the report: restore → agent ready and → first command, memory of idle restores.
    const ready: number[] = [];
    const firstExec: number[] = [];
    let alone = { rssKb: 0, pssKb: 0 };
    for (let run = 0; run < 3; run++) {
      const started = Date.now();
      const vm = await launch(`r${run}`, savedDisk, { restore });
      ready.push(vm.readyMs);
      await sh(vm, "true");
      firstExec.push(Date.now() - started);
      if (run === 0) {
        await new Promise((resolve) => setTimeout(resolve, 2_000));
        alone = memoryOf(vm.vmm.process.pid as number);
      }
      await stop(vm);
    }
    const three = await Promise.all([0, 1, 2].map((n) => launch(`m${n}`, savedDisk, { restore })));
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const memory = three.map((vm) => memoryOf(vm.vmm.process.pid as number));
    for (const vm of three) await stop(vm);
    expect(sha256(ramFile)).toBe(ramDigest);
    console.log(
      JSON.stringify({
        template: { saveMs: saved.ms, stateBytes: saved.bytes },
        restoreReadyMs: ready,
        restoreFirstExecMs: firstExec,
        medianReadyMs: median(ready),
        medianFirstExecMs: median(firstExec),
        oneIdleKb: alone,
        threeIdleKb: memory,
      }),
    );
  });

  it("saves a running VM whole and restores it with its memory", async () => {
    const source = await launch("full", { path: boot.rootfs, format: "raw" });
    await sh(source, "echo in-ram > /dev/shm/proof");
    const stateFile = join(root, "full.state");
    const saved = await saveAndStop(source, stateFile);
    const restored = await launch(
      "full-r",
      { path: join(source.dir, "disk.qcow2"), format: "qcow2" },
      {
        restore: { kind: "full", stateFile },
      },
    );
    expect(await sh(restored, "cat /dev/shm/proof")).toBe("in-ram\n");
    expect((await sh(restored, "uname -r")).trim()).toBe(guestKernel);
    const idle = memoryOf(restored.vmm.process.pid as number);
    await stop(restored);
    console.log(
      JSON.stringify({
        full: { saveMs: saved.ms, stateBytes: saved.bytes, readyMs: restored.readyMs, idle },
      }),
    );
  });

  it("pauses and resumes a VM, and snapshots its workspace disk while it runs", async () => {
    const workspace = join(root, "ws.qcow2");
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", workspace, "64M"]);
    const vm = await launch("ws", { path: boot.rootfs, format: "raw" }, { workspaceDisk: workspace });
    await sh(vm, "printf before | dd of=/dev/vdb conv=fsync 2>/dev/null");
    await vm.control.snapshotWorkspaceDisk("s1");
    await sh(vm, "printf after! | dd of=/dev/vdb conv=fsync 2>/dev/null");
    const list = (): string => execFileSync("qemu-img", ["snapshot", "-U", "-l", workspace]).toString();
    expect(list()).toMatch(/\bs1\b/);
    expect(await sh(vm, "head -c 6 /dev/vdb")).toBe("after!");
    await vm.control.deleteWorkspaceDiskSnapshot("s1");
    expect(list()).not.toMatch(/\bs1\b/);
    // A source of a fork: saved, then running on.
    const saved = await vm.control.saveState(join(root, "ws.state"));
    expect(saved.bytes).toBeGreaterThan(1024 * 1024);
    await vm.control.resume();
    expect(await sh(vm, "head -c 6 /dev/vdb")).toBe("after!");
    await stop(vm);
  });
});
