import { checkPrivateEgress, type NetworkPolicy } from "../network/policy.js";
import { mkdirSync, rmSync } from "node:fs";
import { PyroError } from "../../errors/index.js";
import { workspacesDir } from "../../platform/paths.js";
import { silentPhases, type PhaseReporter } from "../../platform/phases.js";
import { createVm, deleteVm, newVmId } from "../vm-manager.js";
import { vmRunner } from "./guest-runner.js";
import { extractIntoGuest } from "./guest-tar.js";
import { validateLabels, validateName } from "./naming.js";
import { collectSecrets, storeSecrets } from "./secrets.js";
import { startWorkspaceVm } from "./start-vm.js";
import { tarOfSource } from "./source-tar.js";
import { maskDeep } from "../../secrets/masker.js";
import { workspaceFiles, writeWorkspaceRecord, type WorkspaceRecord } from "./record.js";
import { writeWorkspaceArchive } from "./workspace-archive.js";
import { workspaceInfo, type WorkspaceInfo } from "./views.js";

export interface CreateWorkspaceOptions {
  environment: string;
  vcpuCount: number;
  memMib: number;
  ttlSeconds: number;
  allowHostCompat: boolean;
  backend?: string | undefined;
  seedPath?: string | null;
  name?: string | null;
  labels?: Record<string, string>;
  /** Secrets: NAME → value, and NAME → host file to read the value from. */
  secrets?: Record<string, string>;
  secretFiles?: Record<string, string>;
  networkPolicy?: NetworkPolicy;
  allowPrivateEgress?: boolean;
  onPhase?: PhaseReporter;
}

/**
 * Creates a workspace: a VM of its own kept in the workspace folder, /workspace seeded from a
 * directory or archive, and the baseline captured. Nothing is left behind if any step fails.
 */
export async function createWorkspace(options: CreateWorkspaceOptions): Promise<WorkspaceInfo> {
  const onPhase = options.onPhase ?? silentPhases;
  checkPrivateEgress(options.networkPolicy ?? "off", options.allowPrivateEgress ?? false);
  const name = validateName(options.name ?? null);
  const labels = validateLabels(options.labels ?? {});
  // The seed is checked up front: an unsafe archive is refused before any VM exists.
  const seed = options.seedPath ? await tarOfSource(options.seedPath, workspacesDir()) : null;
  const secrets = collectSecrets(options.secrets ?? {}, options.secretFiles ?? {});
  // Caller text kept in workspace.json and shown by list and status: no secret value in it.
  const kept = maskDeep({ labels, source: options.seedPath ?? null }, secrets);

  const id = newVmId();
  const files = workspaceFiles(id);
  mkdirSync(files.snapshots, { recursive: true, mode: 0o700 });
  const now = new Date().toISOString();
  const record: WorkspaceRecord = {
    schema: 1,
    id,
    name,
    labels: kept.labels,
    environment: options.environment,
    vcpu_count: options.vcpuCount,
    mem_mib: options.memMib,
    ttl_seconds: options.ttlSeconds,
    allow_host_compat: options.allowHostCompat,
    backend: options.backend ?? "auto",
    network_policy: options.networkPolicy ?? "off",
    allow_private_egress: options.allowPrivateEgress ?? false,
    created_at: now,
    last_activity_at: now,
    reset_count: 0,
    command_count: 0,
    seed: {
      mode: seed?.mode ?? "empty",
      source: kept.source,
      entry_count: seed?.entry_count ?? 0,
      bytes: seed?.bytes ?? 0,
    },
  };
  try {
    writeWorkspaceRecord(record);
    storeSecrets(id, secrets);
    onPhase("create", { workspace_id: id, environment: options.environment });
    const vm = await createVm({
      environment: options.environment,
      vcpuCount: options.vcpuCount,
      memMib: options.memMib,
      ttlSeconds: options.ttlSeconds,
      networkPolicy: options.networkPolicy ?? "off",
      allowPrivateEgress: options.allowPrivateEgress ?? false,
      allowHostCompat: options.allowHostCompat,
      backend: options.backend,
      placement: { id, dir: files.vm },
      onPhase,
    });
    record.backend = vm.backend;
    writeWorkspaceRecord(record);
    onPhase("start", { workspace_id: id });
    await startWorkspaceVm(id);
    const run = vmRunner(id);
    if (seed !== null) {
      onPhase("seed", { workspace_id: id, mode: seed.mode, entries: seed.entry_count });
      await extractIntoGuest(run, ".", seed.stream);
    }
    onPhase("baseline", { workspace_id: id });
    // The immutable baseline archive that diff compares against.
    await writeWorkspaceArchive(run, files.baseline);
  } catch (error) {
    await deleteVm(id).catch(() => undefined);
    rmSync(files.dir, { recursive: true, force: true });
    throw error instanceof PyroError ? error : new PyroError("INTERNAL", String(error), { cause: error });
  }
  return workspaceInfo(record);
}
