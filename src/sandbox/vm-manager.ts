import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { backendByName } from "../machine/registry.js";
import type { LaunchSpec } from "../machine/types.js";
import { ensureEnvironment, getEnvironmentSpec } from "../environments/index.js";
import { PyroError } from "../errors/index.js";
import { agentBinaryPath } from "../machine/agent-binary.js";
import { selectBackend } from "../machine/select.js";
import { withFileLock } from "../platform/file-lock.js";
import { composeGuestInitrd } from "../machine/guest-initrd.js";
import { silentPhases, type PhaseReporter } from "../platform/phases.js";
import { isOwnProcess } from "../platform/processes.js";
import type { GuestNetwork } from "../machine/network/guest-network.js";
import { planGuestNetwork } from "../machine/network/plan.js";
import { allowsEgress, checkPrivateEgress, type NetworkPolicy } from "./network/policy.js";
import { checkSocketPath, vmDir, vmsDir } from "../platform/paths.js";
import { startSupervisor } from "../runtime/start.js";
import { connectSupervisor } from "./supervisor-client.js";
import { readVmRecord, updateVmRecord, vmFiles, writeVmRecord, type VmRecord } from "./vm-record.js";
import { consoleTail, vmExitOf } from "./vm-status.js";

export interface CreateVmOptions {
  environment: string;
  vcpuCount: number;
  memMib: number;
  ttlSeconds: number;
  networkPolicy: NetworkPolicy;
  /** Lets egress reach private ranges (10/8, 172.16/12, 192.168/16, 100.64/10). */
  allowPrivateEgress?: boolean;
  allowHostCompat: boolean;
  backend?: string | undefined;
  /** One-shot VM owned by this process: torn down when the process goes away. */
  ephemeral?: boolean;
  /** A workspace's VM takes the workspace's id and lives in its folder. */
  placement?: { id: string; dir: string };
  onPhase?: PhaseReporter;
}

const BOOT_TIMEOUT_MS = Number(process.env.PYRO_BOOT_TIMEOUT_MS ?? 60_000);
const STOP_TIMEOUT_MS = 15_000;

export function newVmId(): string {
  return randomBytes(6).toString("hex");
}

/** Loads a VM's record or fails with VM_NOT_FOUND. */
export function loadVm(id: string): VmRecord {
  if (!/^[a-z0-9-]{1,64}$/.test(id)) {
    throw new PyroError("VM_NOT_FOUND", `no VM with id "${id}"`, {
      hint: "VM ids are lowercase hex; run `pyro vm list`.",
    });
  }
  const record = readVmRecord(vmDir(id));
  if (record === null) throw new PyroError("VM_NOT_FOUND", `no VM with id ${id}`);
  return record;
}

export async function createVm(options: CreateVmOptions): Promise<VmRecord> {
  const onPhase = options.onPhase ?? silentPhases;
  getEnvironmentSpec(options.environment);
  const allowPrivateEgress = options.allowPrivateEgress ?? false;
  checkPrivateEgress(options.networkPolicy, allowPrivateEgress);
  const network = allowsEgress(options.networkPolicy);
  if (network) planGuestNetwork(allowPrivateEgress); // fails early, naming what is missing
  const agentBinary = agentBinaryPath();
  const wantsGuest = (options.backend ?? process.env.PYRO_BACKEND) !== "host";
  let boot: LaunchSpec["boot"] = null;
  let kernelDigest = "";
  if (wantsGuest) {
    const installed = await ensureEnvironment(options.environment, { onPhase });
    boot = {
      kernel: installed.kernelPath,
      initramfs: composeGuestInitrd(installed.initramfsPath, agentBinary),
      rootfs: installed.rootfsPath,
    };
    kernelDigest = installed.manifest.files.kernel.sha256;
  }
  const choice = await selectBackend({
    requested: options.backend,
    allowHostCompat: options.allowHostCompat,
    artifacts: boot === null ? null : { ...boot, kernelDigest },
    agentBinary,
  });
  if (choice.backend === "host") boot = null;
  if (network && choice.backend === "host") {
    throw new PyroError("NETWORK_UNAVAILABLE", "host-compat mode cannot give a guest its own network", {
      hint: "Network policies need a guest backend (QEMU); run `pyro doctor`.",
    });
  }

  const id = options.placement?.id ?? newVmId();
  const dir = options.placement?.dir ?? vmDir(id);
  const files = vmFiles(dir);
  checkSocketPath(files.supervisorSocket);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const now = Date.now();
  const record: VmRecord = {
    schema: 1,
    id,
    environment: options.environment,
    backend: choice.backend,
    accel: choice.accel,
    execution_mode: choice.executionMode,
    vcpu_count: options.vcpuCount,
    mem_mib: options.memMib,
    ttl_seconds: options.ttlSeconds,
    network_policy: options.networkPolicy,
    allow_private_egress: allowPrivateEgress,
    network_plan: null,
    ephemeral: options.ephemeral ?? false,
    owner_pid: options.ephemeral ? process.pid : null,
    state: "created",
    created_at: new Date(now).toISOString(),
    started_at: null,
    expires_at: new Date(now + options.ttlSeconds * 1000).toISOString(),
    boot,
    supervisor_pid: null,
    vmm_pid: null,
    guest: null,
    last_error: null,
  };
  try {
    await backendByName(choice.backend).prepare(launchSpec(record, null));
    writeVmRecord(dir, record);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return record;
}

function launchSpec(record: VmRecord, network: GuestNetwork | null): LaunchSpec {
  const files = vmFiles(vmDir(record.id));
  return {
    id: record.id,
    vcpuCount: record.vcpu_count,
    memMib: record.mem_mib,
    boot: record.boot,
    agentBinary: agentBinaryPath(),
    files: {
      agentSocket: files.agentSocket,
      consoleLog: files.consoleLog,
      overlay: files.overlay,
      scratch: files.scratch,
    },
    accel: record.accel,
    network,
  };
}

export function isSupervisorAlive(record: VmRecord): boolean {
  return isOwnProcess(record.supervisor_pid, vmDir(record.id));
}

/** Serialises mutations of one VM across processes; fails with VM_NOT_FOUND before locking anything. */
function withVmLock<T>(id: string, action: () => Promise<T>): Promise<T> {
  loadVm(id);
  return withFileLock(vmFiles(vmDir(id)).lock, action);
}

export interface StartVmOptions {
  /** A workspace's secret store, masked in the VM's stored console log. */
  consoleMaskDir?: string;
}

export async function startVm(id: string, options: StartVmOptions = {}): Promise<VmRecord> {
  const dir = vmDir(id);
  return withVmLock(id, async () => {
    const record = loadVm(id);
    if (record.state === "running" && isSupervisorAlive(record)) return record;
    if (Date.parse(record.expires_at) <= Date.now()) {
      throw new PyroError("VM_EXPIRED", `VM ${id} expired at ${record.expires_at}`);
    }
    const files = vmFiles(dir);
    // A previous run may have left sockets and its exit note behind.
    for (const stale of [files.supervisorSocket, files.agentSocket, `${dir}/exit.json`])
      rmSync(stale, { force: true });
    // Planned at each boot: the host's uplink may have changed since the last one.
    const network = allowsEgress(record.network_policy)
      ? planGuestNetwork(record.allow_private_egress)
      : null;
    updateVmRecord(dir, (r) => {
      r.state = "starting";
      r.network_plan = network;
    });
    const report = await startSupervisor(
      {
        id,
        dir,
        backend: record.backend,
        launch: launchSpec(record, network),
        supervisorSocket: files.supervisorSocket,
        bootTimeoutMs: BOOT_TIMEOUT_MS,
        expiresAtMs: Date.parse(record.expires_at),
        ephemeral: record.ephemeral,
        ownerPid: record.owner_pid,
        consoleMaskDir: options.consoleMaskDir ?? null,
      },
      files.supervisorLog,
    );
    if (!report.ok) {
      const tail = consoleTail(dir);
      updateVmRecord(dir, (r) => {
        r.state = "failed";
        r.last_error = { code: report.code, message: report.message };
      });
      throw new PyroError(
        report.code === "VM_BOOT_TIMEOUT" ? "VM_BOOT_TIMEOUT" : "VM_BOOT_FAILED",
        `${report.message}${tail ? `\n--- console (${files.consoleLog}) ---\n${tail}` : ""}`,
        { details: { console_log: files.consoleLog, ...report.details } },
      );
    }
    return updateVmRecord(dir, (r) => {
      r.state = "running";
      r.started_at = new Date().toISOString();
      r.supervisor_pid = report.pid;
      r.vmm_pid = report.vmm_pid;
      r.guest = { kernel_release: report.kernel_release, agent_version: report.agent_version };
      r.last_error = null;
    });
  });
}

/** Stops the VM (the guest syncs and powers off); keeps its record and disk. */
export async function stopVm(id: string): Promise<VmRecord> {
  const dir = vmDir(id);
  return withVmLock(id, async () => {
    const record = loadVm(id);
    await stopProcesses(record);
    return updateVmRecord(dir, (r) => {
      const exit = vmExitOf(dir);
      r.state = exit?.reason === "ttl_expired" ? "expired" : "stopped";
      r.supervisor_pid = null;
      r.vmm_pid = null;
    });
  });
}

async function stopProcesses(record: VmRecord): Promise<void> {
  if (isSupervisorAlive(record)) {
    try {
      const client = await connectSupervisor(record, "pyro-stop");
      await client.shutdown(STOP_TIMEOUT_MS);
      client.close();
    } catch {
      // Fall through to signals below.
    }
    const deadline = Date.now() + STOP_TIMEOUT_MS;
    while (isSupervisorAlive(record) && Date.now() < deadline) await sleep(25);
    if (isSupervisorAlive(record) && record.supervisor_pid !== null)
      process.kill(record.supervisor_pid, "SIGKILL");
  }
  killOrphanVmm(record);
}

/** A VMM whose supervisor died is nobody's: kill it. */
export function killOrphanVmm(record: VmRecord): boolean {
  if (record.vmm_pid !== null && isOwnProcess(record.vmm_pid, record.id) && !isSupervisorAlive(record)) {
    process.kill(record.vmm_pid, "SIGKILL");
    return true;
  }
  return false;
}

export async function deleteVm(id: string): Promise<{ vm_id: string; deleted: boolean }> {
  const dir = vmDir(id);
  await withVmLock(id, async () => {
    const record = loadVm(id);
    await stopProcesses(record);
    rmSync(dir, { recursive: true, force: true });
  });
  return { vm_id: id, deleted: true };
}

export function listVmIds(): string[] {
  if (!existsSync(vmsDir())) return [];
  return readdirSync(vmsDir()).filter((name) => existsSync(vmFiles(vmDir(name)).record));
}
