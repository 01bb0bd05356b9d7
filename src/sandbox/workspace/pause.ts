import { rmSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { PyroError } from "../../errors/index.js";
import { readSavedManifest, savedVmFiles, verifySavedVm } from "../../runtime/saved-vm.js";
import { driverByName } from "../../machine/registry.js";
import type { SandboxStore } from "../store.js";
import { supervisorControl } from "../supervisor-client.js";
import { isSupervisorAlive, loadVm } from "../vm/manager.js";
import { touch, withWorkspaceLock } from "./lock.js";
import { readWorkspaceRecord, writeWorkspaceRecord, type WorkspaceRecord } from "./record.js";
import { runningWorkspace } from "./running.js";
import { startWorkspaceVm } from "./start-vm.js";
import { workspaceInfo, type WorkspaceInfo } from "./views.js";

/** How long a paused supervisor has to end once its state is on disk. */
const END_WAIT_MS = 15_000;

export interface PauseResult extends WorkspaceInfo {
  /** How long saving the VM took, in ms. */
  save_ms: number;
  /** Bytes of the saved state (memory and devices; the disks stay where they are). */
  saved_bytes: number;
}

function pausable(record: WorkspaceRecord): void {
  if (!driverByName(record.backend).capabilities.pause)
    throw new PyroError("INVALID_ARGUMENT", `the ${record.backend} backend cannot pause a workspace`, {
      hint: "Pause needs a guest backend (qemu); `pyro workspace stop ID` keeps the disk instead.",
    });
}

/**
 * Saves the running workspace's memory, processes, shells and services to its folder and ends its
 * VM and supervisor: the host's memory is freed and nothing is lost. `resume` brings it all back.
 */
export async function pauseWorkspace(store: SandboxStore, id: string): Promise<PauseResult> {
  return withWorkspaceLock(store, id, async () => {
    const { record } = runningWorkspace(store, id);
    pausable(record);
    const { save_ms } = await supervisorControl(store, id).pause();
    const deadline = Date.now() + END_WAIT_MS;
    while (isSupervisorAlive(store, loadVm(store, id)) && Date.now() < deadline) await sleep(20);
    const manifest = readSavedManifest(store.files(id).paused);
    if (manifest === null)
      throw new PyroError("INTERNAL", `workspace ${id} was paused but left no saved state`);
    const paused = readWorkspaceRecord(store, id);
    paused.state = "paused";
    paused.supervisor_pid = null;
    paused.vmm_pid = null;
    touch(paused);
    writeWorkspaceRecord(store, paused);
    const savedBytes = manifest.files
      .filter((file) => file.role === "vmm_state" || file.role === "supervisor_state")
      .reduce((sum, file) => sum + file.bytes, 0);
    return { ...workspaceInfo(store, paused), save_ms, saved_bytes: savedBytes };
  });
}

export interface ResumeResult extends WorkspaceInfo {
  /** How long checking the saved state's digests took, in ms (part of the resume). */
  verify_ms: number;
}

/**
 * Restores a paused workspace exactly as it was: the same processes, shells (same ids, cursors
 * still valid), services and published ports. The saved state is checked first; a torn or
 * changed one is refused (SAVED_STATE_INVALID) and nothing runs on it.
 */
export async function resumeWorkspace(store: SandboxStore, id: string): Promise<ResumeResult> {
  return withWorkspaceLock(store, id, async () => {
    const record = readWorkspaceRecord(store, id);
    if (isSupervisorAlive(store, record))
      throw new PyroError("INVALID_ARGUMENT", `workspace ${id} is running, not paused`);
    const dir = store.files(id).paused;
    const manifest = readSavedManifest(dir);
    if (manifest === null)
      throw new PyroError("WORKSPACE_NOT_RUNNING", `workspace ${id} is not paused`, {
        hint: `Run \`pyro workspace start ${id}\` to boot its disk.`,
      });
    const verifyStarted = Date.now();
    await verifySavedVm(manifest);
    const verifyMs = Date.now() - verifyStarted;
    const files = savedVmFiles(dir);
    // Time spent paused does not count against the TTL: the clock starts again now.
    record.expires_at = new Date(Date.now() + record.ttl_seconds * 1000).toISOString();
    record.state = "stopped";
    writeWorkspaceRecord(store, record);
    await startWorkspaceVm(store, id, {
      savedState: { vmmState: files.vmmState, supervisorState: files.supervisorState },
    });
    rmSync(dir, { recursive: true, force: true });
    const resumed = readWorkspaceRecord(store, id);
    touch(resumed);
    writeWorkspaceRecord(store, resumed);
    return { ...workspaceInfo(store, resumed), verify_ms: verifyMs };
  });
}
