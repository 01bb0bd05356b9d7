import { existsSync, rmSync } from "node:fs";
import type { SandboxStore } from "../store.js";
import { supervisorControl } from "../supervisor-client.js";
import { isSupervisorAlive, loadVm, machineDir, stopVm } from "../vm/manager.js";
import { describeExit, vmExitOf } from "../vm/status.js";
import { dropDiskCache } from "./disk.js";
import { touch, withWorkspaceLock } from "./lock.js";
import { readWorkspaceRecord, writeWorkspaceRecord } from "./record.js";
import { startWorkspaceVm } from "./start-vm.js";
import { workspaceInfo, type WorkspaceInfo } from "./views.js";

export interface StopResult extends WorkspaceInfo {
  ended_shells: string[];
  ended_services: string[];
  already_stopped: boolean;
}

/**
 * Stops the sandbox: the agent syncs, remounts read-only and powers off (killed if it does not
 * within a bound); shells and services end with it and are named in the result.
 */
export async function stopWorkspace(store: SandboxStore, id: string): Promise<StopResult> {
  readWorkspaceRecord(store, id);
  return withWorkspaceLock(store, id, async () => {
    const vm = loadVm(store, id);
    if (!isSupervisorAlive(store, vm)) {
      const info = workspaceInfo(store, readWorkspaceRecord(store, id));
      if (vm.state !== "stopped") await stopVm(store, id);
      return {
        ...workspaceInfo(store, readWorkspaceRecord(store, id)),
        ended_shells: [],
        ended_services: [],
        already_stopped: info.state === "stopped",
      };
    }
    const processes = await supervisorControl(store, id)
      .list()
      .catch(() => []);
    const running = processes.filter((process) => process.state !== "exited");
    await stopVm(store, id);
    const record = readWorkspaceRecord(store, id);
    touch(record);
    writeWorkspaceRecord(store, record);
    return {
      ...workspaceInfo(store, record),
      ended_shells: running.filter((p) => p.kind === "shell").map((p) => p.id),
      ended_services: running.filter((p) => p.kind === "service").map((p) => p.id),
      already_stopped: false,
    };
  });
}

/** Removes a pause's saved state, if there is one; says whether there was. */
export function discardSavedState(store: SandboxStore, id: string): boolean {
  const dir = store.files(id).paused;
  if (!existsSync(dir)) return false;
  rmSync(dir, { recursive: true, force: true });
  return true;
}

export interface StartResult extends WorkspaceInfo {
  already_running: boolean;
  /** How the previous run ended, when it did not end by `stop` (a killed VM, a host crash). */
  previous_stop: string | null;
}

/** Boots the same disk again (same id, /workspace and baseline); stale sockets are cleared first. */
export async function startWorkspace(store: SandboxStore, id: string): Promise<StartResult> {
  readWorkspaceRecord(store, id);
  return withWorkspaceLock(store, id, async () => {
    const vm = loadVm(store, id);
    if (isSupervisorAlive(store, vm)) {
      return {
        ...workspaceInfo(store, readWorkspaceRecord(store, id)),
        already_running: true,
        previous_stop: null,
      };
    }
    const exit = vmExitOf(machineDir(store, id));
    // A paused workspace's disks were synced by the pause: booting them drops its saved memory.
    const paused = discardSavedState(store, id);
    const unclean = !paused && (vm.state !== "stopped" || (exit !== null && exit.reason !== "shutdown"));
    const previous_stop = paused
      ? "paused: its saved memory and processes were discarded (resume keeps them)"
      : unclean
        ? `unclean: ${exit === null ? "the VM's processes were gone" : describeExit(exit)}`
        : null;
    dropDiskCache(store, id);
    await startWorkspaceVm(store, id);
    const record = readWorkspaceRecord(store, id);
    touch(record);
    writeWorkspaceRecord(store, record);
    return { ...workspaceInfo(store, record), already_running: false, previous_stop };
  });
}
