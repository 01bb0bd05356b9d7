import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { once } from "node:events";
import { release } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { join } from "node:path";
import { z } from "zod";
import { AgentClient } from "../../agent-protocol/client.js";
import { toPyroError } from "../../errors/index.js";
import { writeJsonAtomic } from "../../platform/atomic-file.js";
import { startDeathGuard, type DeathGuard } from "../death-guard.js";
import { kvmDeviceStatus } from "../kvm-device.js";
import type { BootArtifacts, KvmStatus, LaunchSpec, LaunchedVmm } from "../types.js";
import { qemuBinary } from "./binary.js";
import { qcow2Overlay } from "./disk.js";
import { launchQemu } from "./launch.js";

const ProbeCache = z.object({
  key: z.string(),
  usable: z.boolean(),
  evidence: z.string(),
  probed_at: z.string(),
});
type ProbeCache = z.infer<typeof ProbeCache>;

const PROBE_TIMEOUT_MS = 20_000;

const cachePath = (stateDir: string): string => join(stateDir, "kvm-probe.json");

function probeKey(artifacts: BootArtifacts): string {
  const qemu = qemuBinary();
  const qemuStamp = qemu === null ? "none" : `${qemu}@${statSync(qemu).mtimeMs}`;
  return [release(), qemuStamp, artifacts.kernelDigest].join("|");
}

/**
 * Whether KVM can really run pyro's guest here. The device being present proves little (some
 * hosts expose a KVM that only runs specially built kernels), so the verdict comes from booting
 * the guest with KVM once; it is cached with its evidence until the host kernel, QEMU or the
 * guest kernel changes.
 */
export async function kvmStatus(options: {
  artifacts: () => Promise<BootArtifacts | null>;
  agentBinary: string | null;
  probe: boolean;
  /** pyro's home: the verdict is cached there and the probe VM's files made there. */
  stateDir: string;
}): Promise<KvmStatus> {
  const device = kvmDeviceStatus();
  if (device.usable === false) return device;
  const base = {
    device: device.device,
    exists: device.exists,
    readable: device.readable,
    writable: device.writable,
  };
  if (qemuBinary() === null) {
    return {
      ...base,
      usable: null,
      evidence: "QEMU is not installed, nothing to probe with",
      probed_at: null,
      cached: false,
    };
  }
  const artifacts = options.agentBinary === null ? null : await options.artifacts();
  if (artifacts === null || options.agentBinary === null) {
    return {
      ...base,
      usable: null,
      evidence: "no environment installed to probe with",
      probed_at: null,
      cached: false,
    };
  }
  const key = probeKey(artifacts);
  const cached = readCache(options.stateDir);
  if (cached !== null && cached.key === key) {
    return {
      ...base,
      usable: cached.usable,
      evidence: cached.evidence,
      probed_at: cached.probed_at,
      cached: true,
    };
  }
  if (!options.probe) {
    return {
      ...base,
      usable: null,
      evidence: "not probed yet (run `pyro doctor`)",
      probed_at: null,
      cached: false,
    };
  }
  const verdict = await probeBoot(artifacts, options.agentBinary, options.stateDir);
  const entry: ProbeCache = { key, ...verdict, probed_at: new Date().toISOString() };
  writeJsonAtomic(cachePath(options.stateDir), entry);
  return {
    ...base,
    usable: entry.usable,
    evidence: entry.evidence,
    probed_at: entry.probed_at,
    cached: false,
  };
}

function readCache(stateDir: string): ProbeCache | null {
  try {
    const parsed = ProbeCache.safeParse(JSON.parse(readFileSync(cachePath(stateDir), "utf8")));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

async function probeBoot(
  artifacts: BootArtifacts,
  agentBinary: string,
  stateDir: string,
): Promise<{ usable: boolean; evidence: string }> {
  const dir = mkdtempSync(join(stateDir, "kvm-probe-"));
  const spec: LaunchSpec = {
    id: `kvmprobe-${process.pid}`,
    vcpuCount: 1,
    memMib: 256,
    boot: { kernel: artifacts.kernel, initramfs: artifacts.initramfs, rootfs: artifacts.rootfs },
    agentBinary,
    dir,
    files: { agentSocket: join(dir, "a.sock"), consoleLog: join(dir, "console.log") },
    accel: "kvm",
    network: null,
    workspaceDisk: null,
  };
  const started = Date.now();
  let vmm: LaunchedVmm | null = null;
  let guard: DeathGuard | null = null;
  try {
    await qcow2Overlay.create(dir, { path: artifacts.rootfs, format: "raw" });
    vmm = await launchQemu(spec);
    // Should this process be killed mid-probe, the probe's QEMU goes with it.
    guard = startDeathGuard([vmm.process], join(dir, "exit.json"));
    const stream = await vmm.connectAgent(started + PROBE_TIMEOUT_MS);
    const remaining = Math.max(1_000, started + PROBE_TIMEOUT_MS - Date.now());
    const client = await AgentClient.connect(stream, { client: "pyro-kvm-probe", timeoutMs: remaining });
    const kernel = client.info.kernelRelease;
    client.close();
    return {
      usable: true,
      evidence: `guest kernel ${kernel} answered under KVM in ${Date.now() - started} ms`,
    };
  } catch (error) {
    // Give an aborting QEMU a moment so its own words make it into the evidence.
    if (vmm !== null) await Promise.race([once(vmm.process, "exit"), sleep(500)]);
    const qemuSaid = vmm?.diagnostics() ?? "";
    const console = tail(spec.files.consoleLog);
    const reason = toPyroError(error).message;
    const evidence = [`guest did not boot under KVM: ${reason}`];
    if (qemuSaid) evidence.push(`qemu: ${qemuSaid.slice(0, 300)}`);
    if (console) evidence.push(`console: ${console}`);
    return { usable: false, evidence: evidence.join(" | ") };
  } finally {
    vmm?.process.kill("SIGKILL");
    guard?.release();
    rmSync(dir, { recursive: true, force: true });
  }
}

function tail(path: string): string {
  try {
    return readFileSync(path, "utf8").trim().split("\n").slice(-3).join(" / ").slice(0, 300);
  } catch {
    return "";
  }
}
