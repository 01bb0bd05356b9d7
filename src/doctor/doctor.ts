import { NETWORK_POLICIES } from "../sandbox/network/policy.js";
import { networkAvailability } from "../machine/network/plan.js";
import { accessSync, constants, existsSync, readFileSync } from "node:fs";
import { arch, cpus, platform, release, totalmem } from "node:os";
import { checkEnvironment } from "../environments/cache.js";
import { DEFAULT_ENVIRONMENT, ENVIRONMENT_CATALOG } from "../environments/catalog.js";
import { environmentCacheDir } from "../environments/paths.js";
import { agentBinaryPath } from "../machine/agent-binary.js";
import { runtimeVerdict, type RuntimeVerdict } from "./verdict.js";
import { nativePartFix, nativePartMissing } from "../platform/install-kind.js";
import type { KvmStatus, MachineCheck } from "../machine/types.js";
import type { ProbeArtifacts } from "./host-probe.js";
import type { DoctorProbeCache } from "./probe-cache-schema.js";
import { probeInputs, readProbeCache, writeProbeCache } from "./probe-cache.js";
import { reapExpired, type ReapReport } from "../sandbox/reaper.js";
import type { SandboxStore } from "../sandbox/store.js";

export type DoctorCheck = MachineCheck;

export interface DoctorReport extends RuntimeVerdict {
  platform: { os: string; arch: string; kernel: string; node: string; cpus: number; memory_mib: number };
  checks: DoctorCheck[];
  kvm: KvmStatus;
  /** Each driver's tools (qemu, qemu_img, firecracker: path or null) and what auto selection picks. */
  backends: Record<string, string | null> & { selected: string };
  environment_cache: { dir: string; installed: string[] };
  capabilities: { vm_boot: boolean; guest_exec: boolean; guest_network: boolean };
  networking: {
    tun: boolean;
    ip_forward: boolean;
    offered: boolean;
    policies: string[];
    helper: string | null;
    reason: string;
  };
  state_dir: string;
  reaped: ReapReport;
  /** Whether the host measurements (drivers' probes, netstack hardening) were taken now or cached, and when. */
  probe: { cached: boolean; measured_at: string; age_seconds: number };
  ok: boolean;
}

const pass = (name: string, detail: string): DoctorCheck => ({ name, status: "PASS", detail, fix: null });
const fail = (name: string, detail: string, fix: string): DoctorCheck => ({
  name,
  status: "FAIL",
  detail,
  fix,
});
const warn = (name: string, detail: string, fix: string): DoctorCheck => ({
  name,
  status: "WARN",
  detail,
  fix,
});

function agentPath(): string | null {
  try {
    return agentBinaryPath();
  } catch {
    return null;
  }
}

function readable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Checks everything pyro needs on this host; a FAIL always names its fix. Also reaps dead VMs. */
export async function runDoctor(store: SandboxStore): Promise<DoctorReport> {
  const checks: DoctorCheck[] = [];
  const nodeMajor = Number(process.versions.node.split(".")[0]);
  checks.push(
    platform() === "linux" && arch() === "x64"
      ? pass("platform", `${platform()} ${arch()}`)
      : fail("platform", `${platform()} ${arch()}`, "pyro runs guests on Linux x86_64 hosts only."),
  );
  checks.push(
    nodeMajor >= 20
      ? pass("runtime", `Node.js ${process.versions.node}`)
      : fail("runtime", `Node.js ${process.versions.node}`, "Install Node.js 20 or newer."),
  );
  const agent = agentPath();
  checks.push(
    agent !== null
      ? pass("guest agent", agent)
      : fail("guest agent", nativePartMissing("agent"), nativePartFix("agent")),
  );
  // Each catalog entry checked once: its state says both whether it is installed and where.
  const states = await Promise.all(
    ENVIRONMENT_CATALOG.map(async (spec) => ({ name: spec.name, state: await checkEnvironment(spec.name) })),
  );
  const installed = states.filter(({ state }) => state.status === "installed").map(({ name }) => name);
  const probeEnv = installed.includes(DEFAULT_ENVIRONMENT) ? DEFAULT_ENVIRONMENT : installed[0];
  const probeState = states.find(({ name }) => name === probeEnv)?.state;
  const resolved = probeState?.status === "installed" ? probeState.environment : null;
  const network = networkAvailability();
  const artifacts: ProbeArtifacts = {
    agent,
    environment:
      resolved === null
        ? null
        : {
            kernelPath: resolved.kernelPath,
            initramfsPath: resolved.initramfsPath,
            rootfsPath: resolved.rootfsPath,
            kernelDigest: resolved.manifest.files.kernel.sha256,
          },
  };
  const { probe, cache } = await hostMeasurements(store.home, probeEnv ?? null, artifacts, network.helper);
  const machines = cache.survey;
  checks.push(...machines.checks);
  checks.push(
    resolved !== null
      ? pass("environment cache", `${installed.join(", ")} in ${environmentCacheDir()}`)
      : fail(
          "environment cache",
          `no environment installed in ${environmentCacheDir()}`,
          `Run \`pyro env pull ${DEFAULT_ENVIRONMENT}\`.`,
        ),
  );
  const kvm = machines.kvm;
  const kvmDetail = `exists=${kvm.exists} readable=${kvm.readable} writable=${kvm.writable} usable=${kvm.usable ?? "unknown"}: ${kvm.evidence}`;
  checks.push(
    kvm.usable === true
      ? pass("kvm", kvmDetail)
      : warn(
          "kvm",
          kvmDetail,
          kvm.exists
            ? "Guests run under TCG emulation (slower). For KVM, use a host whose KVM runs stock kernels."
            : "Enable virtualisation (load kvm_intel/kvm_amd) for fast guests; TCG emulation works meanwhile.",
        ),
  );
  const vmBoot = machines.selected !== null;
  const tun = existsSync("/dev/net/tun") && readable("/dev/net/tun");
  const ipForward = readFileSafe("/proc/sys/net/ipv4/ip_forward").trim() === "1";
  checks.push(
    network.egress
      ? pass("networking", `policies off, egress, egress+published-ports: ${network.reason}`)
      : warn("networking", `policy off only: ${network.reason}`, nativePartFix("netstack")),
  );
  checks.push(...cache.hardening);
  const reaped = await reapExpired(store);
  return {
    ...runtimeVerdict(checks),
    platform: {
      os: platform(),
      arch: arch(),
      kernel: release(),
      node: process.versions.node,
      cpus: cpus().length,
      memory_mib: Math.floor(totalmem() / 1024 / 1024),
    },
    checks,
    kvm,
    backends: { ...machines.tools, selected: machines.selected ?? "none" },
    environment_cache: { dir: environmentCacheDir(), installed },
    capabilities: { vm_boot: vmBoot, guest_exec: vmBoot, guest_network: vmBoot && network.egress },
    networking: {
      tun,
      ip_forward: ipForward,
      offered: vmBoot && network.egress,
      policies: network.egress ? [...NETWORK_POLICIES] : ["off"],
      helper: network.helper,
      reason: network.egress
        ? `${network.reason}; published ports bind 127.0.0.1 and are relayed by the VM's supervisor (tun and ip_forward are not needed)`
        : network.reason,
    },
    state_dir: store.home,
    reaped,
    probe,
    ok: checks.every((check) => check.status !== "FAIL"),
  };
}

/** The host measurements: from the cache while the host is unchanged, else taken now and cached. */
async function hostMeasurements(
  home: string,
  environment: string | null,
  artifacts: ProbeArtifacts,
  helper: string | null,
): Promise<{ probe: DoctorReport["probe"]; cache: DoctorProbeCache }> {
  const env = artifacts.environment;
  const files = [
    artifacts.agent,
    helper,
    env?.kernelPath ?? null,
    env?.initramfsPath ?? null,
    env?.rootfsPath ?? null,
  ];
  const now = Date.now();
  const cached = readProbeCache(home, probeInputs(environment, files), now);
  if (cached !== null) {
    const age = Math.floor((now - Date.parse(cached.measured_at)) / 1000);
    return { probe: { cached: true, measured_at: cached.measured_at, age_seconds: age }, cache: cached };
  }
  const { measureHost } = await import("./host-probe.js");
  const measured = await measureHost(home, artifacts, helper);
  const tools = Object.values(measured.survey.tools);
  const cache: DoctorProbeCache = {
    schema: 1,
    measured_at: new Date(now).toISOString(),
    // Taken after measuring: the tools the drivers found are known now, and their identity counts too.
    inputs: probeInputs(environment, [...files, ...tools]),
    ...measured,
  };
  try {
    writeProbeCache(home, cache);
  } catch {
    // A home that cannot be written still gets its answer; the next doctor measures again.
  }
  return { probe: { cached: false, measured_at: cache.measured_at, age_seconds: 0 }, cache };
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}
