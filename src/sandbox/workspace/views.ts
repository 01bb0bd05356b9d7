import { existsSync, readdirSync } from "node:fs";
import { workspacesDir } from "../../platform/paths.js";
import { vmInfo, type VmInfo } from "../vm-views.js";
import { loadVm } from "../vm-manager.js";
import { PyroError } from "../../errors/index.js";
import type { PublishedPort } from "../../runtime/published-ports.js";
import { readWorkspaceRecord, workspaceFiles, type WorkspaceRecord } from "./record.js";

export interface WorkspaceInfo {
  workspace_id: string;
  name: string | null;
  labels: Record<string, string>;
  environment: string;
  state: VmInfo["state"] | "missing";
  workspace_path: "/workspace";
  seed: WorkspaceRecord["seed"];
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
  ended: string | null;
}

/** A workspace as it is now, its VM's liveness included. */
export function workspaceInfo(record: WorkspaceRecord): WorkspaceInfo {
  let vm: VmInfo | null = null;
  try {
    vm = vmInfo(loadVm(record.id));
  } catch (error) {
    if (!(error instanceof PyroError)) throw error;
  }
  return {
    workspace_id: record.id,
    name: record.name,
    labels: record.labels,
    environment: record.environment,
    state: vm?.state ?? "missing",
    workspace_path: "/workspace",
    seed: record.seed,
    network_policy: record.network_policy,
    allow_private_egress: record.allow_private_egress,
    guest_ip: vm?.guest_ip ?? null,
    execution_mode: vm?.execution_mode ?? null,
    backend: vm?.backend ?? null,
    accel: vm?.accel ?? null,
    vcpu_count: record.vcpu_count,
    mem_mib: record.mem_mib,
    ttl_seconds: record.ttl_seconds,
    expires_at: vm?.expires_at ?? null,
    created_at: record.created_at,
    last_activity_at: record.last_activity_at,
    reset_count: record.reset_count,
    command_count: record.command_count,
    guest_kernel_release: vm?.guest_kernel_release ?? null,
    ended: vm?.ended ?? null,
  };
}

export function listWorkspaceIds(): string[] {
  if (!existsSync(workspacesDir())) return [];
  return readdirSync(workspacesDir()).filter((id) => existsSync(workspaceFiles(id).record));
}

/** Every readable workspace, most recent mutating activity first. */
export function listWorkspaces(): WorkspaceInfo[] {
  const infos: WorkspaceInfo[] = [];
  for (const id of listWorkspaceIds()) {
    try {
      infos.push(workspaceInfo(readWorkspaceRecord(id)));
    } catch {
      // A damaged workspace is reported by its own status call, not by list.
    }
  }
  return infos.sort((a, b) => b.last_activity_at.localeCompare(a.last_activity_at));
}
