import { PyroError } from "../errors/index.js";

/** How long the guest's /workspace may stay frozen; the agent thaws it by itself after this. */
export const FREEZE_TIMEOUT_MS = 10_000;

/** The guest side of a consistent disk snapshot: the agent freezes and thaws /workspace. */
export interface FreezableGuest {
  freeze(timeoutMs: number): Promise<unknown>;
  thaw(timeoutMs: number): Promise<unknown>;
}

/** The VMM side: internal snapshots of the workspace disk while the VM runs. */
export interface WorkspaceDiskControl {
  snapshotWorkspaceDisk(name: string): Promise<void>;
  deleteWorkspaceDiskSnapshot(name: string): Promise<void>;
}

/** What the control handler asks of the running VM for the two disk-snapshot ops. */
export interface DiskSnapshots {
  snapshot(tag: string): Promise<void>;
  delete(tag: string): Promise<void>;
}

/**
 * Disk snapshots of a VM with a workspace disk: the file system is frozen for the (O(1)) snapshot
 * and thawed afterwards whatever happened; a failed thaw is reported after a failed snapshot's
 * own error, and the agent's own timeout still thaws a guest the host could not reach.
 */
export function frozenDiskSnapshots(guest: FreezableGuest, vmm: WorkspaceDiskControl): DiskSnapshots {
  return {
    async snapshot(tag) {
      await guest.freeze(FREEZE_TIMEOUT_MS);
      let failure: unknown = null;
      try {
        await vmm.snapshotWorkspaceDisk(tag);
      } catch (error) {
        failure = error;
      }
      try {
        await guest.thaw(FREEZE_TIMEOUT_MS);
      } catch (error) {
        failure ??= error;
      }
      if (failure !== null) throw failure;
    },
    delete: (tag) => vmm.deleteWorkspaceDiskSnapshot(tag),
  };
}

/** For a VM without a workspace disk (or a VMM without live disk snapshots). */
export const NO_DISK_SNAPSHOTS: DiskSnapshots = {
  snapshot: () => Promise.reject(noDisk()),
  delete: () => Promise.reject(noDisk()),
};

function noDisk(): PyroError {
  return new PyroError("NO_DISK", "this VM has no workspace disk to snapshot", {
    hint: "Disk snapshots need the qemu backend; host-compat workspaces keep archive snapshots.",
  });
}
