import { checkPrivateEgress, type NetworkPolicy } from "../network/policy.js";
import { mkdirSync } from "node:fs";
import { PyroError } from "../../errors/index.js";
import { silentPhases, type PhaseReporter } from "../../platform/phases.js";
import { createVm, deleteVm } from "../vm/manager.js";
import { driverByName } from "../../machine/registry.js";
import type { SandboxStore } from "../store.js";
import { extractIntoGuest } from "./guest-extract.js";
import { withGuestFiles } from "./guest-fs.js";
import { validateLabels, validateName } from "./naming.js";
import { collectSecrets, storeSecrets } from "./secrets.js";
import { startWorkspaceVm } from "./start-vm.js";
import { tarOfSource, type SourceTar } from "./source-tar.js";
import { maskDeep } from "../../secrets/masker.js";
import { readWorkspaceRecord, workspaceFiles } from "./record.js";
import { writeWorkspaceArchive } from "./workspace-archive.js";
import { workspaceInfo, type WorkspaceInfo } from "./views.js";
import { createWorkspaceDisk } from "./workspace-disk.js";

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
 * Creates a workspace: a sandbox whose record carries the workspace facet, /workspace seeded from
 * a directory or archive, and the baseline captured — on the host into the workspace's own disk
 * when its driver has workspace images, else through the guest agent into the root disk's
 * folder. Nothing is left behind if any step fails.
 */
export async function createWorkspace(
  store: SandboxStore,
  options: CreateWorkspaceOptions,
): Promise<WorkspaceInfo> {
  const onPhase = options.onPhase ?? silentPhases;
  checkPrivateEgress(options.networkPolicy ?? "off", options.allowPrivateEgress ?? false);
  const name = validateName(options.name ?? null);
  const labels = validateLabels(options.labels ?? {});
  // The seed is checked up front: an unsafe archive is refused before any VM exists.
  const seed = options.seedPath ? await tarOfSource(options.seedPath, store.root) : null;
  const secrets = collectSecrets(options.secrets ?? {}, options.secretFiles ?? {});
  // Caller text kept in sandbox.json and shown by list and status: no secret value in it.
  const kept = maskDeep({ labels, source: options.seedPath ?? null }, secrets);
  const now = new Date().toISOString();
  const vm = await createVm(store, {
    environment: options.environment,
    vcpuCount: options.vcpuCount,
    memMib: options.memMib,
    ttlSeconds: options.ttlSeconds,
    networkPolicy: options.networkPolicy ?? "off",
    allowPrivateEgress: options.allowPrivateEgress ?? false,
    allowHostCompat: options.allowHostCompat,
    backend: options.backend,
    workspace: {
      name,
      labels: kept.labels,
      last_activity_at: now,
      reset_count: 0,
      command_count: 0,
      seed: {
        mode: seed?.mode ?? "empty",
        source: kept.source,
        entry_count: seed?.entry_count ?? 0,
        bytes: seed?.bytes ?? 0,
      },
    },
    onPhase,
  });
  const id = vm.id;
  onPhase("create", { workspace_id: id, environment: options.environment });
  const files = workspaceFiles(store, id);
  try {
    mkdirSync(files.snapshots, { recursive: true, mode: 0o700 });
    storeSecrets(store, id, secrets);
    const format = driverByName(vm.backend).workspaceImage;
    if (format !== null) {
      if (seed !== null) onPhase("seed", { workspace_id: id, mode: seed.mode, entries: seed.entry_count });
      onPhase("baseline", { workspace_id: id });
      await createWorkspaceDisk(store, id, format, seed);
      onPhase("start", { workspace_id: id });
      await startWorkspaceVm(store, id);
    } else await seedThroughGuest(store, id, seed, onPhase);
  } catch (error) {
    await deleteVm(store, id).catch(() => undefined);
    throw error instanceof PyroError ? error : new PyroError("INTERNAL", String(error), { cause: error });
  }
  return workspaceInfo(store, readWorkspaceRecord(store, id));
}

/** A workspace without its own disk: boot, unpack the seed through the agent, archive the baseline. */
async function seedThroughGuest(
  store: SandboxStore,
  id: string,
  seed: SourceTar | null,
  onPhase: PhaseReporter,
): Promise<void> {
  const files = workspaceFiles(store, id);
  onPhase("start", { workspace_id: id });
  await startWorkspaceVm(store, id);
  await withGuestFiles(store, id, async (guest) => {
    if (seed !== null) {
      onPhase("seed", { workspace_id: id, mode: seed.mode, entries: seed.entry_count });
      await extractIntoGuest(guest, ".", seed.stream);
    }
    onPhase("baseline", { workspace_id: id });
    // The immutable baseline archive that diff compares against.
    await writeWorkspaceArchive(guest, files.baseline);
  });
}
