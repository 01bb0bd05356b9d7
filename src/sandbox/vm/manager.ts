import { randomBytes } from "node:crypto";
import { isOwnProcess } from "../../platform/processes.js";
import { mkdirSync, rmSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import type { LaunchSpec } from "../../machine/types.js";
import { ensureEnvironment, knownName, type InstalledEnvironment } from "../../environments/index.js";
import { PyroError } from "../../errors/index.js";
import { agentBinaryPath } from "../../machine/agent-binary.js";
import { selectMachine } from "../../machine/select.js";
import { driverByName } from "../../machine/registry.js";
import { composeGuestInitrd } from "../../machine/guest-initrd.js";
import { silentPhases, type PhaseReporter } from "../../platform/phases.js";
import type { GuestNetwork } from "../../machine/network/guest-network.js";
import { planGuestNetwork } from "../../machine/network/plan.js";
import { allowsEgress, checkPrivateEgress, type NetworkPolicy } from "../network/policy.js";
import { checkSocketPath } from "../../platform/paths.js";
import { forgetKeptExpiry } from "../../runtime/expiry-clock.js";
import { startSupervisor } from "../../runtime/start.js";
import { connectSupervisor } from "../supervisor-client.js";
import type { GuestImage } from "../guest-env.js";
import { SANDBOX_RECORD_SCHEMA, type WorkspaceFacet } from "../record.js";
import type { SandboxStore } from "../store.js";
import { vmFiles, type VmRecord } from "./record.js";
import { consoleTail, vmExitOf } from "./status.js";
import { isSupervisorAlive, killOrphanVmm, loadVm, machineDir } from "./liveness.js";
import { chooseTemplate } from "./template-choice.js";
import { layerOverTemplate } from "./template-disks.js";
import { planStart, type SavedState, type StartPlan } from "./start-plan.js";

export { isSupervisorAlive, killOrphanVmm, loadVm, machineDir };

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
  /** Makes the sandbox a workspace. */
  workspace?: WorkspaceFacet;
  onPhase?: PhaseReporter;
}

const STOP_TIMEOUT_MS = 15_000;
/** How long a supervisor whose VMM was killed has to clean up before the orderly path runs. */
const DISCARD_WAIT_MS = 2_000;

export type MachineChoice = Pick<
  VmRecord,
  "backend" | "accel" | "execution_mode" | "boot" | "template" | "template_skipped" | "image"
>;

/** What commands in a guest take from the environment's container image (none in host mode). */
function imageOf(installed: InstalledEnvironment | null): GuestImage | null {
  const image = installed?.manifest.image;
  return image === undefined ? null : { env: image.env, working_dir: image.working_dir, user: image.user };
}

/** Resolves the environment, picks the backend and the memory template; nothing is written. */
export async function chooseMachine(store: SandboxStore, options: CreateVmOptions): Promise<MachineChoice> {
  const onPhase = options.onPhase ?? silentPhases;
  knownName(options.environment);
  const allowPrivateEgress = options.allowPrivateEgress ?? false;
  checkPrivateEgress(options.networkPolicy, allowPrivateEgress);
  const network = allowsEgress(options.networkPolicy);
  const plan = network ? planGuestNetwork(allowPrivateEgress) : null; // fails early, naming what is missing
  const agentBinary = agentBinaryPath();
  let installed: InstalledEnvironment | null = null; // resolved only when a guest boots
  const choice = await selectMachine({
    requested: options.backend ?? store.backend,
    allowHostCompat: options.allowHostCompat,
    needsNetwork: network,
    context: {
      agentBinary,
      measure: true,
      stateDir: store.home,
      artifacts: async () => {
        installed = await ensureEnvironment(options.environment, { onPhase });
        return {
          kernel: installed.kernelPath,
          initramfs: composeGuestInitrd(installed.initramfsPath, agentBinary, store.home),
          rootfs: installed.rootfsPath,
          kernelDigest: installed.manifest.files.kernel.sha256,
        };
      },
    },
  });
  const boot =
    choice.boot === null
      ? null
      : { kernel: choice.boot.kernel, initramfs: choice.boot.initramfs, rootfs: choice.boot.rootfs };
  const template = await chooseTemplate(store, {
    agentBinary,
    environment: options.environment,
    vcpuCount: options.vcpuCount,
    memMib: options.memMib,
    network: plan,
    driver: choice.driver,
    accel: choice.accel,
    boot: choice.boot,
    onPhase,
  });
  return {
    backend: choice.driver.name,
    accel: choice.accel,
    execution_mode: choice.executionMode,
    boot,
    template: template.kind === "template" ? template.name : null,
    template_skipped: template.kind === "cold" ? template.reason : null,
    image: choice.boot === null ? null : imageOf(installed),
  };
}

/** A fresh machine folder with the driver's disk in it, over the template's saved disk when there is one. */
async function prepareMachine(store: SandboxStore, record: VmRecord): Promise<void> {
  const dir = machineDir(store, record.id);
  checkSocketPath(vmFiles(dir).supervisorSocket);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const driver = driverByName(record.backend);
  if (record.template !== null) {
    await layerOverTemplate(store, driver, dir, record.template, record.workspace === null);
    return;
  }
  const rootfs = record.boot?.rootfs;
  await driver.disk.create(dir, rootfs === undefined ? null : { path: rootfs, format: "raw" });
}

export async function createVm(store: SandboxStore, options: CreateVmOptions): Promise<VmRecord> {
  const choice = await chooseMachine(store, options);
  const id = store.allocate();
  const now = Date.now();
  const record: VmRecord = {
    schema: SANDBOX_RECORD_SCHEMA,
    id,
    environment: options.environment,
    ...choice,
    vcpu_count: options.vcpuCount,
    mem_mib: options.memMib,
    ttl_seconds: options.ttlSeconds,
    network_policy: options.networkPolicy,
    allow_private_egress: options.allowPrivateEgress ?? false,
    allow_host_compat: options.allowHostCompat,
    network_plan: null,
    machine_id: randomBytes(16).toString("hex"),
    start: null,
    ephemeral: options.ephemeral ?? false,
    owner_pid: options.ephemeral ? process.pid : null,
    state: "created",
    created_at: new Date(now).toISOString(),
    started_at: null,
    expires_at: new Date(now + options.ttlSeconds * 1000).toISOString(),
    supervisor_pid: null,
    vmm_pid: null,
    guest: null,
    last_error: null,
    workspace: options.workspace ?? null,
  };
  await store.withLock(id, async () => {
    try {
      await prepareMachine(store, record);
      store.save(record);
    } catch (error) {
      store.remove(id);
      throw error;
    }
  });
  return record;
}

/**
 * Replaces a sandbox's VM with a fresh one from its environment (a workspace's reset): same id,
 * settings and backend, a new disk, and a TTL counted from now. The rest of the folder stays.
 */
export async function recreateVm(
  store: SandboxStore,
  id: string,
  onPhase: PhaseReporter = silentPhases,
): Promise<VmRecord> {
  return withVmLock(store, id, async () => {
    const old = loadVm(store, id);
    // Every disk of the old VM is replaced or reverted: nothing on it needs syncing.
    await stopProcesses(store, old, true);
    try {
      const choice = await chooseMachine(store, {
        environment: old.environment,
        vcpuCount: old.vcpu_count,
        memMib: old.mem_mib,
        ttlSeconds: old.ttl_seconds,
        networkPolicy: old.network_policy,
        allowPrivateEgress: old.allow_private_egress,
        allowHostCompat: old.allow_host_compat,
        backend: old.backend,
        onPhase,
      });
      const now = Date.now();
      const record: VmRecord = {
        ...old,
        ...choice,
        image: old.image, // fixed at create: the workspace disk's owner was made for it
        network_plan: null,
        state: "created",
        started_at: null,
        expires_at: new Date(now + old.ttl_seconds * 1000).toISOString(),
        supervisor_pid: null,
        vmm_pid: null,
        guest: null,
        last_error: null,
      };
      await prepareMachine(store, record);
      store.save(record);
      return record;
    } catch (error) {
      const failure = error instanceof PyroError ? error : new PyroError("INTERNAL", String(error));
      store.save({
        ...old,
        state: "failed",
        supervisor_pid: null,
        vmm_pid: null,
        last_error: { code: failure.code, message: failure.message },
      });
      throw error;
    }
  });
}

function launchSpec(
  store: SandboxStore,
  record: VmRecord,
  network: GuestNetwork | null,
  start: StartPlan,
): LaunchSpec {
  const dir = machineDir(store, record.id);
  const files = vmFiles(dir);
  return {
    id: record.id,
    vcpuCount: record.vcpu_count,
    memMib: record.mem_mib,
    boot: record.boot,
    agentBinary: agentBinaryPath(),
    dir,
    files: { agentSocket: files.agentSocket, consoleLog: files.consoleLog },
    accel: record.accel,
    network,
    workspaceDisk: start.workspaceDisk,
    ...(start.restore === null ? {} : { restore: start.restore }),
  };
}

/** Serialises mutations of one sandbox across processes; fails with VM_NOT_FOUND before locking anything. */
function withVmLock<T>(store: SandboxStore, id: string, action: () => Promise<T>): Promise<T> {
  loadVm(store, id);
  return store.withLock(id, action);
}

/** Reads, changes and writes back a record; the caller holds the sandbox's lock. */
function updateVm(store: SandboxStore, id: string, change: (record: VmRecord) => void): VmRecord {
  const record = loadVm(store, id);
  change(record);
  store.save(record);
  return record;
}

export interface StartVmOptions {
  /** A workspace's secret store, masked in the VM's stored console log. */
  consoleMaskDir?: string;
  /** The workspace's own disk, mounted on /workspace in the guest. */
  workspaceDisk?: string;
  /** Resume from this saved state (a pause or a fork) instead of booting. */
  savedState?: SavedState;
  /**
   * A workspace's TTL counts from activity (its supervisor moves the expiry at every request, and
   * an expiry pauses or stops it, never deletes it): a start is never refused as expired.
   */
  ttlFromActivity?: boolean;
}

export async function startVm(
  store: SandboxStore,
  id: string,
  options: StartVmOptions = {},
): Promise<VmRecord> {
  return withVmLock(store, id, async () => {
    const record = loadVm(store, id);
    const dir = machineDir(store, id);
    if (record.state === "running" && isSupervisorAlive(store, record)) return record;
    const fromActivity = options.ttlFromActivity === true;
    if (!fromActivity && Date.parse(record.expires_at) <= Date.now()) {
      throw new PyroError("VM_EXPIRED", `VM ${id} expired at ${record.expires_at}`);
    }
    const files = vmFiles(dir);
    // A previous run may have left sockets, its exit note and its expiry behind.
    for (const stale of [files.supervisorSocket, files.agentSocket, `${dir}/exit.json`])
      rmSync(stale, { force: true });
    forgetKeptExpiry(dir);
    // Planned at each boot: the host's uplink may have changed since the last one.
    const network = allowsEgress(record.network_policy)
      ? planGuestNetwork(record.allow_private_egress)
      : null;
    const started = updateVm(store, id, (r) => {
      r.state = "starting";
      r.network_plan = network;
      if (fromActivity) r.expires_at = new Date(Date.now() + r.ttl_seconds * 1000).toISOString();
    });
    const start = planStart(store, record, options);
    const report = await startSupervisor(
      {
        id,
        dir,
        backend: record.backend,
        launch: launchSpec(store, record, network, start),
        identity: { hostname: `pyro-${id}`, machineId: record.machine_id },
        workspaceDevice:
          options.workspaceDisk === undefined
            ? null
            : (driverByName(record.backend).workspaceImage?.device ?? null),
        supervisorState: options.savedState?.supervisorState ?? null,
        pauseDir: record.workspace === null ? null : store.files(id).paused,
        supervisorSocket: files.supervisorSocket,
        bootTimeoutMs: store.bootTimeoutMs,
        expiresAtMs: Date.parse(started.expires_at),
        idleTtlMs: fromActivity ? record.ttl_seconds * 1000 : null,
        onExpire: fromActivity ? "pause" : "stop",
        ephemeral: record.ephemeral,
        ownerPid: record.owner_pid,
        consoleMaskDir: options.consoleMaskDir ?? null,
      },
      files.supervisorLog,
    );
    if (!report.ok) {
      const tail = consoleTail(dir);
      updateVm(store, id, (r) => {
        r.state = "failed";
        r.last_error = { code: report.code, message: report.message };
      });
      throw new PyroError(
        report.code === "VM_BOOT_TIMEOUT" ? "VM_BOOT_TIMEOUT" : "VM_BOOT_FAILED",
        `${report.message}${tail ? `\n--- console (${files.consoleLog}) ---\n${tail}` : ""}`,
        { details: { console_log: files.consoleLog, ...report.details } },
      );
    }
    return updateVm(store, id, (r) => {
      r.state = "running";
      r.started_at = new Date().toISOString();
      r.supervisor_pid = report.pid;
      r.vmm_pid = report.vmm_pid;
      r.guest = { kernel_release: report.kernel_release, agent_version: report.agent_version };
      r.start = {
        mode: start.mode,
        cold_reason: start.coldReason,
        at: new Date().toISOString(),
        timings: report.timings,
      };
      r.last_error = null;
    });
  });
}

/** Stops the VM (the guest syncs and powers off); keeps its record and disk. */
export async function stopVm(store: SandboxStore, id: string): Promise<VmRecord> {
  return withVmLock(store, id, async () => {
    const record = loadVm(store, id);
    const dir = machineDir(store, id);
    await stopProcesses(store, record);
    return updateVm(store, id, (r) => {
      const exit = vmExitOf(dir);
      r.state = exit?.reason === "ttl_expired" ? "expired" : "stopped";
      r.supervisor_pid = null;
      r.vmm_pid = null;
    });
  });
}

/**
 * Ends the VM's processes. Orderly (the guest syncs its disks and powers off) unless the disks
 * are about to be thrown away (`discard`): then the VMM is killed and its supervisor, seeing it
 * exit, cleans up and ends in a few ms.
 */
async function stopProcesses(store: SandboxStore, record: VmRecord, discard = false): Promise<void> {
  if (
    discard &&
    isSupervisorAlive(store, record) &&
    record.vmm_pid !== null &&
    isOwnProcess(record.vmm_pid, record.id)
  ) {
    process.kill(record.vmm_pid, "SIGKILL");
    const deadline = Date.now() + DISCARD_WAIT_MS;
    while (isSupervisorAlive(store, record) && Date.now() < deadline) await sleep(5);
  }
  if (isSupervisorAlive(store, record)) {
    try {
      const client = await connectSupervisor(store, record, "pyro-stop");
      await client.shutdown(STOP_TIMEOUT_MS);
      client.close();
    } catch {
      // Fall through to signals below.
    }
    const deadline = Date.now() + STOP_TIMEOUT_MS;
    while (isSupervisorAlive(store, record) && Date.now() < deadline) await sleep(25);
    if (isSupervisorAlive(store, record) && record.supervisor_pid !== null)
      process.kill(record.supervisor_pid, "SIGKILL");
  }
  killOrphanVmm(store, record);
}

/** Stops the VM and removes its sandbox whole (a workspace's files included). */
export async function deleteVm(
  store: SandboxStore,
  id: string,
): Promise<{ vm_id: string; deleted: boolean }> {
  await withVmLock(store, id, async () => {
    const record = loadVm(store, id);
    await stopProcesses(store, record, true);
    store.remove(id);
  });
  return { vm_id: id, deleted: true };
}
