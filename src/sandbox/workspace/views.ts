import { vmInfo, type VmInfo } from "../vm/views.js";
import type { PublishedPort } from "../../runtime/published-ports.js";
import type { SandboxStore } from "../store.js";
import type { WorkspaceRecord } from "./record.js";

export interface WorkspaceInfo {
  workspace_id: string;
  name: string | null;
  labels: Record<string, string>;
  environment: string;
  state: VmInfo["state"] | "missing";
  workspace_path: "/workspace";
  seed: WorkspaceRecord["workspace"]["seed"];
  network_policy: WorkspaceRecord["network_policy"];
  allow_private_egress: boolean;
  guest_ip: string | null;
  /** Only filled by status, which asks the running VM. */
  published_ports?: PublishedPort[];
  execution_mode: VmInfo["execution_mode"] | null;
  backend: VmInfo["backend"] | null;
  accel: VmInfo["accel"] | null;
  vcpu_count: number;
  mem_mib: number;
  ttl_seconds: number;
  expires_at: string | null;
  created_at: string;
  last_activity_at: string;
  reset_count: number;
  command_count: number;
  guest_kernel_release: string | null;
  start_mode: VmInfo["start_mode"];
  cold_reason: string | null;
  start_timings: VmInfo["start_timings"];
  ended: string | null;
}

/** A workspace as it is now, its VM's liveness included. */
export function workspaceInfo(store: SandboxStore, record: WorkspaceRecord): WorkspaceInfo {
  const vm = vmInfo(store, record);
  return {
    workspace_id: record.id,
    name: record.workspace.name,
    labels: record.workspace.labels,
    environment: record.environment,
    state: vm.state,
    workspace_path: "/workspace",
    seed: record.workspace.seed,
    network_policy: record.network_policy,
    allow_private_egress: record.allow_private_egress,
    guest_ip: vm.guest_ip,
    execution_mode: vm.execution_mode,
    backend: vm.backend,
    accel: vm.accel,
    vcpu_count: record.vcpu_count,
    mem_mib: record.mem_mib,
    ttl_seconds: record.ttl_seconds,
    expires_at: vm.expires_at,
    created_at: record.created_at,
    last_activity_at: record.workspace.last_activity_at,
    reset_count: record.workspace.reset_count,
    command_count: record.workspace.command_count,
    guest_kernel_release: vm.guest_kernel_release,
    start_mode: vm.start_mode,
    cold_reason: vm.cold_reason,
    start_timings: vm.start_timings,
    ended: vm.ended,
  };
}

/** Every readable workspace, most recent mutating activity first. */
export function listWorkspaces(store: SandboxStore): WorkspaceInfo[] {
  return store
    .list()
    .flatMap((record) => (record.workspace === null ? [] : [{ ...record, workspace: record.workspace }]))
    .map((record) => workspaceInfo(store, record))
    .sort((a, b) => b.last_activity_at.localeCompare(a.last_activity_at));
}
