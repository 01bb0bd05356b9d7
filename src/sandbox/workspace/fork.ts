import { cpSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { copyFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { PyroError } from "../../errors/index.js";
import { driverByName } from "../../machine/registry.js";
import { readSavedManifest, savedVmFiles, verifySavedVm } from "../../runtime/saved-vm.js";
import { readSupervisorState, writeSupervisorState } from "../../runtime/supervisor-state.js";
import type { DiskCopies } from "../../runtime/vm-saver.js";
import type { SandboxStore } from "../store.js";
import { supervisorControl } from "../supervisor-client.js";
import { deleteVm, isSupervisorAlive, machineDir } from "../vm/manager.js";
import { withWorkspaceLock } from "./lock.js";
import { validateName } from "./naming.js";
import { readWorkspaceRecord, writeWorkspaceRecord, type WorkspaceRecord } from "./record.js";
import { startWorkspaceVm } from "./start-vm.js";
import { workspaceInfo, type WorkspaceInfo } from "./views.js";

export interface ForkResult extends WorkspaceInfo {
  /** The workspace this one was forked from. */
  forked_from: string;
  /** How long saving the source and copying its disks took, in ms (the source ran on after it). */
  save_ms: number;
}

/** What a sandbox folder carries beside its VM: baseline, archive snapshots, secrets, history. */
const CARRIED = ["baseline", "snapshots", "secrets", "history"] as const;

/** The source's disks, and where the fork's copies of them go. */
function diskCopies(
  store: SandboxStore,
  source: WorkspaceRecord,
  id: string,
): {
  from: { root: string | null; workspace: string | null };
  to: DiskCopies;
} {
  const disk = driverByName(source.backend).disk;
  const workspace = existsSync(store.files(source.id).disk) ? store.files(source.id).disk : null;
  mkdirSync(machineDir(store, id), { recursive: true, mode: 0o700 });
  return {
    from: { root: disk.imageFile(machineDir(store, source.id)), workspace },
    to: {
      root_disk: disk.imageFile(machineDir(store, id)),
      workspace_disk: workspace === null ? null : store.files(id).disk,
    },
  };
}

/**
 * A paused source: its saved state copied; its disks (a pause leaves them in place) copied too.
 * The saved state is checked first, as a resume would: a fork never runs on a changed one.
 */
async function copyPaused(
  store: SandboxStore,
  source: WorkspaceRecord,
  dir: string,
  id: string,
): Promise<number> {
  const started = Date.now();
  const manifest = readSavedManifest(store.files(source.id).paused);
  if (manifest === null) throw new PyroError("WORKSPACE_NOT_RUNNING", `workspace ${source.id} is not paused`);
  await verifySavedVm(manifest);
  const paused = savedVmFiles(store.files(source.id).paused);
  const image = savedVmFiles(dir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  await copyFile(paused.vmmState, image.vmmState);
  // Published ports stay with the source, as in a running fork: the copy's supervisor state has none.
  const supervisor = readSupervisorState(paused.supervisorState);
  writeSupervisorState(image.supervisorState, { ...supervisor, ports: [] });
  const { from, to } = diskCopies(store, source, id);
  if (from.root !== null)
    await driverByName(source.backend).disk.copy(machineDir(store, source.id), machineDir(store, id));
  if (from.workspace !== null && to.workspace_disk !== null)
    await driverByName(source.backend).workspaceImage?.copy(from.workspace, to.workspace_disk);
  return Date.now() - started;
}

/** Saves the source (running or paused) into `dir` and the new sandbox's disk places; the source runs on. */
async function saveSource(
  store: SandboxStore,
  sourceId: string,
  id: string,
  dir: string,
): Promise<{
  source: WorkspaceRecord;
  saveMs: number;
}> {
  return withWorkspaceLock(store, sourceId, async () => {
    const source = readWorkspaceRecord(store, sourceId);
    if (!driverByName(source.backend).capabilities.pause)
      throw new PyroError("INVALID_ARGUMENT", `the ${source.backend} backend cannot fork a workspace`, {
        hint: "Fork needs a guest backend (qemu).",
      });
    const running = isSupervisorAlive(store, source);
    if (!running && readSavedManifest(store.files(sourceId).paused) === null)
      throw new PyroError("WORKSPACE_NOT_RUNNING", `workspace ${sourceId} is neither running nor paused`, {
        hint: `Start it first: \`pyro workspace start ${sourceId}\`.`,
      });
    const saveMs = running
      ? (await supervisorControl(store, sourceId).fork({ dir, ...diskCopies(store, source, id).to })).save_ms
      : await copyPaused(store, source, dir, id);
    for (const what of CARRIED) {
      const from = store.files(sourceId)[what];
      if (existsSync(from)) cpSync(from, store.files(id)[what], { recursive: true });
    }
    return { source, saveMs };
  });
}

/**
 * A new workspace from a running or paused one: the same memory, processes, files, baseline and
 * snapshots, with its own id, name, disks and identity (hostname, machine id, fresh entropy, its
 * own network stack); the two diverge from then on. Published ports stay with the source.
 */
export async function forkWorkspace(
  store: SandboxStore,
  sourceId: string,
  options: { name?: string | null } = {},
): Promise<ForkResult> {
  readWorkspaceRecord(store, sourceId);
  const name = validateName(options.name ?? null);
  const id = store.allocate();
  const files = store.files(id);
  const image = join(files.dir, "fork");
  try {
    const { source, saveMs } = await saveSource(store, sourceId, id, image);
    const now = new Date().toISOString();
    const record: WorkspaceRecord = {
      ...source,
      id,
      machine_id: randomBytes(16).toString("hex"),
      state: "stopped",
      created_at: now,
      started_at: null,
      expires_at: new Date(Date.now() + source.ttl_seconds * 1000).toISOString(),
      supervisor_pid: null,
      vmm_pid: null,
      network_plan: null,
      start: null,
      last_error: null,
      workspace: { ...source.workspace, name, last_activity_at: now },
    };
    writeWorkspaceRecord(store, record);
    const saved = savedVmFiles(image);
    await startWorkspaceVm(store, id, {
      savedState: { vmmState: saved.vmmState, supervisorState: saved.supervisorState },
    });
    rmSync(image, { recursive: true, force: true });
    return {
      ...workspaceInfo(store, readWorkspaceRecord(store, id)),
      forked_from: sourceId,
      save_ms: saveMs,
    };
  } catch (error) {
    if (existsSync(files.record)) await deleteVm(store, id).catch(() => undefined);
    else rmSync(files.dir, { recursive: true, force: true });
    throw error;
  }
}
