import { PyroError } from "../../errors/index.js";
import type { WorkspaceImageFormat } from "../../machine/types.js";
import type { SandboxStore } from "../store.js";
import { supervisorControl } from "../supervisor-client.js";
import { isSupervisorAlive, loadVm } from "../vm/manager.js";
import { withWorkspaceLock } from "./lock.js";
import type { SnapshotBackend, StoredSnapshot } from "./snapshot-backend.js";

/**
 * Snapshots as internal snapshots of the workspace image, O(1) in the workspace's size: taken
 * live by the supervisor (the guest's /workspace frozen meanwhile) or offline with the image
 * tool; reset reverts the stopped image. The baseline is the snapshot taken before first boot.
 */
export function imageSnapshots(
  store: SandboxStore,
  id: string,
  format: WorkspaceImageFormat,
  image: string,
): SnapshotBackend {
  const running = (): boolean => isSupervisorAlive(store, loadVm(store, id));
  const all = async (): Promise<StoredSnapshot[]> =>
    (await format.listSnapshots(image))
      .map((entry) => ({ name: entry.name, created_at: entry.createdAt, bytes: 0 }))
      .sort((a, b) => a.created_at.localeCompare(b.created_at));
  const find = async (name: string): Promise<StoredSnapshot | undefined> =>
    (await all()).find((entry) => entry.name === name);
  const requireRestorable = async (name: string): Promise<void> => {
    if ((await find(name)) === undefined)
      throw new PyroError("SNAPSHOT_NOT_FOUND", `workspace ${id} has no snapshot "${name}"`);
  };
  return {
    requireRestorable,

    // Under the workspace lock: the name check and the snapshot are one step, and no start or
    // stop changes whether the image is in a VM's hands meanwhile.
    create: (name) =>
      withWorkspaceLock(store, id, async () => {
        if ((await find(name)) !== undefined)
          throw new PyroError("SNAPSHOT_EXISTS", `workspace ${id} already has a snapshot "${name}"`);
        if (running()) await supervisorControl(store, id).snapshotDisk(format.tag(name));
        else await format.snapshot(image, name);
        const made = await find(name);
        if (made === undefined) throw new PyroError("INTERNAL", `snapshot "${name}" is missing once taken`);
        return made;
      }),

    list: async () => (await all()).filter((entry) => entry.name !== "baseline"),

    delete: (name) =>
      withWorkspaceLock(store, id, async () => {
        await requireRestorable(name);
        if (running()) await supervisorControl(store, id).deleteDiskSnapshot(format.tag(name));
        else await format.deleteSnapshot(image, name);
      }),

    restoreBeforeStart: (name) => format.revert(image, name),

    restoreAfterStart: async () => undefined,
  };
}
