import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { vmDir, workspaceDir, workspacesDir } from "../platform/paths.js";
import { isProcessAlive } from "../platform/processes.js";
import { isSupervisorAlive, killOrphanVmm, listVmIds, loadVm } from "./vm-manager.js";
import { allowsEgress } from "./network/policy.js";
import { readVmRecord, type VmRecord, type VmState } from "./vm-record.js";
import { describeExit, vmExitOf } from "./vm-status.js";

export interface VmInfo {
  vm_id: string;
  environment: string;
  state: VmState;
  backend: VmRecord["backend"];
  accel: VmRecord["accel"];
  execution_mode: VmRecord["execution_mode"];
  vcpu_count: number;
  mem_mib: number;
  ttl_seconds: number;
  network_enabled: boolean;
  network_policy: VmRecord["network_policy"];
  allow_private_egress: boolean;
  guest_ip: string | null;
  created_at: string;
  started_at: string | null;
  expires_at: string;
  guest_kernel_release: string | null;
  agent_version: string | null;
  ended: string | null;
  last_error: VmRecord["last_error"];
}

/** The record as it is now: a "running" VM whose supervisor is gone is reported as ended. */
export function vmInfo(record: VmRecord): VmInfo {
  let state = record.state;
  let ended: string | null = null;
  if ((state === "running" || state === "starting") && !isSupervisorAlive(record)) {
    const exit = vmExitOf(vmDir(record.id));
    // No exit note at all: the supervisor and its guard both vanished (a host crash, a reboot).
    state = exit?.reason === "ttl_expired" ? "expired" : exit?.reason === "shutdown" ? "stopped" : "failed";
    ended = exit === null ? "the supervisor is gone" : describeExit(exit);
  }
  if (state !== "expired" && Date.parse(record.expires_at) <= Date.now() && state !== "running")
    state = "expired";
  return {
    vm_id: record.id,
    environment: record.environment,
    state,
    backend: record.backend,
    accel: record.accel,
    execution_mode: record.execution_mode,
    vcpu_count: record.vcpu_count,
    mem_mib: record.mem_mib,
    ttl_seconds: record.ttl_seconds,
    network_enabled: allowsEgress(record.network_policy),
    network_policy: record.network_policy,
    allow_private_egress: record.allow_private_egress,
    guest_ip: record.network_plan?.address ?? null,
    created_at: record.created_at,
    started_at: record.started_at,
    expires_at: record.expires_at,
    guest_kernel_release: record.guest?.kernel_release ?? null,
    agent_version: record.guest?.agent_version ?? null,
    ended,
    last_error: record.last_error,
  };
}

export function statusVm(id: string): VmInfo {
  return vmInfo(loadVm(id));
}

export function listVms(): VmInfo[] {
  const infos: VmInfo[] = [];
  for (const id of listVmIds()) {
    try {
      const record = readVmRecord(vmDir(id));
      if (record !== null) infos.push(vmInfo(record));
    } catch {
      // A damaged record is reported by status, not by list.
    }
  }
  return infos.sort((a, b) => b.created_at.localeCompare(a.created_at));
}

export interface ReapReport {
  reaped: Array<{ vm_id: string; reason: string; workspace: boolean }>;
  count: number;
}

/** Every VM on disk with the folder that goes when it is reaped (a workspace goes whole). */
function reapCandidates(): Array<{ id: string; removes: string; workspace: boolean }> {
  const plain = listVmIds().map((id) => ({ id, removes: vmDir(id), workspace: false }));
  const inWorkspaces = existsSync(workspacesDir())
    ? readdirSync(workspacesDir())
        .filter((id) => existsSync(join(workspaceDir(id), "vm", "vm.json")))
        .map((id) => ({ id, removes: workspaceDir(id), workspace: true }))
    : [];
  return [...plain, ...inWorkspaces];
}

/**
 * Deletes VMs (and workspaces) past their TTL and one-shot VMs whose owner died, and kills any
 * VMM left without its supervisor. Safe to run from any process at any time.
 */
export function reapExpired(now = Date.now()): ReapReport {
  const reaped: ReapReport["reaped"] = [];
  for (const { id, removes, workspace } of reapCandidates()) {
    let record: VmRecord | null;
    try {
      record = readVmRecord(vmDir(id));
    } catch {
      continue;
    }
    if (record === null) continue;
    const supervisorAlive = isSupervisorAlive(record);
    const expired = Date.parse(record.expires_at) <= now;
    const orphaned =
      record.ephemeral &&
      !supervisorAlive &&
      (record.owner_pid === null || !isProcessAlive(record.owner_pid));
    if (!expired && !orphaned) {
      killOrphanVmm(record);
      continue;
    }
    if (supervisorAlive && record.supervisor_pid !== null) process.kill(record.supervisor_pid, "SIGKILL");
    killOrphanVmm({ ...record, supervisor_pid: null });
    rmSync(removes, { recursive: true, force: true });
    reaped.push({ vm_id: id, reason: expired ? "ttl_expired" : "owner_exited", workspace });
  }
  return { reaped, count: reaped.length };
}
