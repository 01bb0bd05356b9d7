import { mkdirSync } from "node:fs";
import type { OpeningSession } from "../agent-protocol/session.js";
import type { VmmControl } from "../machine/types.js";
import {
  describeFile,
  savedVmFiles,
  writeSavedManifest,
  type SavedFile,
  type SavedVmManifest,
} from "./saved-vm.js";
import { writeSupervisorState, type SupervisorState } from "./supervisor-state.js";

/** How long the agent has to flush and go quiet before a save. */
const QUIESCE_TIMEOUT_MS = 10_000;
const RESUME_TIMEOUT_MS = 10_000;

export type DiskRole = Extract<SavedFile["role"], "root_disk" | "workspace_disk">;
/** Where a fork's copy of each disk goes (null: that disk is not copied). */
export type DiskCopies = Record<DiskRole, string | null>;

/** What a supervisor lends a save: the quiet agent, the VMM, its own half of the processes, the disks. */
export interface SavableVm {
  agent: OpeningSession;
  control: VmmControl;
  exportState(): SupervisorState;
  disks: Array<{ role: DiskRole; path: string }>;
  /** Copies a stopped disk image (with whatever it needs beside it) to `to`. */
  copyDisk(role: DiskRole, from: string, to: string): Promise<void>;
}

/** The agent goes quiet (nothing in flight on the channel), then the VMM stops and writes its state. */
async function stopAndSave(
  vm: SavableVm,
  dir: string,
  adjust: (state: SupervisorState) => SupervisorState = (state) => state,
): Promise<{ ms: number }> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const files = savedVmFiles(dir);
  await vm.agent.quiesce(QUIESCE_TIMEOUT_MS);
  const saved = await vm.control.saveState(files.vmmState);
  writeSupervisorState(files.supervisorState, adjust(vm.exportState()));
  return saved;
}

async function manifestOf(
  dir: string,
  reason: SavedVmManifest["reason"],
  saveMs: number,
  disks: Array<{ role: DiskRole; path: string }>,
): Promise<SavedVmManifest> {
  const files = savedVmFiles(dir);
  const manifest: SavedVmManifest = {
    schema: 1,
    saved_at: new Date().toISOString(),
    reason,
    save_ms: saveMs,
    files: [
      await describeFile("vmm_state", files.vmmState),
      await describeFile("supervisor_state", files.supervisorState),
      ...(await Promise.all(disks.map((disk) => describeFile(disk.role, disk.path)))),
    ],
  };
  writeSavedManifest(dir, manifest);
  return manifest;
}

/** A pause: saves everything into `dir`; the disks stay where they are. The VM stays stopped (the caller ends it). */
export async function saveForPause(
  vm: SavableVm,
  dir: string,
  reason: SavedVmManifest["reason"],
): Promise<SavedVmManifest> {
  const { ms } = await stopAndSave(vm, dir);
  return manifestOf(dir, reason, ms, vm.disks);
}

/**
 * A fork's start: the state saved into `dir` and the disks copied to `targets` while the VM is
 * stopped, then the VM runs on as if nothing happened (its agent session resumed). Published
 * ports stay with the source: the copy's supervisor state has none.
 */
export async function saveForFork(vm: SavableVm, dir: string, targets: DiskCopies): Promise<SavedVmManifest> {
  const started = Date.now();
  try {
    await stopAndSave(vm, dir, (state) => ({ ...state, ports: [] }));
    const copies: Array<{ role: DiskRole; path: string }> = [];
    for (const disk of vm.disks) {
      const target = targets[disk.role];
      if (target === null) continue;
      await vm.copyDisk(disk.role, disk.path, target);
      copies.push({ role: disk.role, path: target });
    }
    return await manifestOf(dir, "requested", Date.now() - started, copies);
  } finally {
    await vm.control.resume();
    await vm.agent.hello({
      client: "pyro-supervisor",
      hostTimeMs: Date.now(),
      resume: true,
      timeoutMs: RESUME_TIMEOUT_MS,
      timeoutError: () => new Error("the agent did not resume after a fork's save"),
    });
  }
}
