import { existsSync } from "node:fs";
import { isSupervisorAlive, loadVm, machineDir } from "./liveness.js";
import { allowsEgress } from "../network/policy.js";
import type { SandboxStore } from "../store.js";
import type { StartMode } from "../record.js";
import type { VmRecord, VmState } from "./record.js";
import { describeExit, vmExitOf } from "./status.js";
import { readKeptExpiry } from "../../runtime/expiry-clock.js";

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
  /** How the VM last started: from its memory template, a cold boot, or a saved state (pause/fork). */
  start_mode: StartMode | null;
  /** Why a template was not used, when it was not. */
  cold_reason: string | null;
  /** Where the last start's time went, in ms. */
  start_timings: Record<string, number> | null;
  ended: string | null;
  last_error: VmRecord["last_error"];
}

/** The record as it is now: a "running" VM whose supervisor is gone is reported as ended. */
export function vmInfo(store: SandboxStore, record: VmRecord): VmInfo {
  let state = record.state;
  let ended: string | null = null;
  if ((state === "running" || state === "starting") && !isSupervisorAlive(store, record)) {
    const exit = vmExitOf(machineDir(store, record.id));
    // No exit note at all: the supervisor and its guard both vanished (a host crash, a reboot).
    state = stateAfter(exit?.reason);
    ended = exit === null ? "the supervisor is gone" : describeExit(exit);
  }
  const expiresAt = expiryOf(store, record);
  // A workspace is not ended by time while it is stopped (its TTL counts from activity).
  const timed = record.workspace === null;
  if (timed && !["expired", "running", "paused"].includes(state) && Date.parse(expiresAt) <= Date.now())
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
    expires_at: expiresAt,
    guest_kernel_release: record.guest?.kernel_release ?? null,
    agent_version: record.guest?.agent_version ?? null,
    ...startFacts(record),
    ended,
    last_error: record.last_error,
  };
}

/** What a VM whose supervisor ended is, by the reason its exit note gives. */
function stateAfter(reason: string | undefined): VmState {
  if (reason === "ttl_expired") return "expired";
  if (reason === "shutdown") return "stopped";
  // A pause, asked for or at the end of an idle workspace's TTL: its saved state waits for resume.
  if (reason === "paused") return "paused";
  return "failed";
}

/** The last start's mode, cold reason and timings, as views show them. */
export function startFacts(record: VmRecord): Pick<VmInfo, "start_mode" | "cold_reason" | "start_timings"> {
  return {
    start_mode: record.start?.mode ?? null,
    cold_reason: record.start?.cold_reason ?? record.template_skipped,
    start_timings: record.start?.timings ?? null,
  };
}

/**
 * When the sandbox expires: a VM's fixed time; for a workspace, its last activity plus its TTL as
 * its running supervisor keeps it (lagging activity by at most a second), else the record's.
 */
function expiryOf(store: SandboxStore, record: VmRecord): string {
  if (record.workspace === null) return record.expires_at;
  const kept = readKeptExpiry(machineDir(store, record.id));
  const recorded = Date.parse(record.expires_at);
  return kept !== null && kept > recorded ? new Date(kept).toISOString() : record.expires_at;
}

export function statusVm(store: SandboxStore, id: string): VmInfo {
  return vmInfo(store, loadVm(store, id));
}

/** Plain VMs (workspaces are listed by workspace list), newest first. */
export function listVms(store: SandboxStore): VmInfo[] {
  return store
    .list()
    .filter((record) => record.workspace === null && !endedByItsOwner(store, record))
    .map((record) => vmInfo(store, record))
    .sort((a, b) => b.created_at.localeCompare(a.created_at));
}

/** A one-shot VM whose supervisor already removed its folder: the reaper's, not listed. */
const endedByItsOwner = (store: SandboxStore, record: VmRecord): boolean =>
  record.ephemeral && !existsSync(machineDir(store, record.id));
