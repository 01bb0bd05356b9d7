import { existsSync } from "node:fs";
import { startVm } from "../vm/manager.js";
import { workspaceFiles } from "./record.js";
import type { SavedState } from "../vm/start-plan.js";
import type { SandboxStore } from "../store.js";
import { vmRunner } from "./guest-runner.js";
import { guestSecretsDir, materialiseSecrets, secretsDir } from "./secrets.js";

/**
 * Boots (or resumes) a workspace's VM with its secrets: masked in its console log, placed under
 * /run in the guest (a resumed guest still has them). Its TTL counts from activity.
 */
export async function startWorkspaceVm(
  store: SandboxStore,
  id: string,
  options: { savedState?: SavedState } = {},
): Promise<void> {
  const disk = workspaceFiles(store, id).disk;
  // A workspace with its own disk (made at create) has it in its folder, outside the VM folder a reset replaces.
  const ownDisk = existsSync(disk) ? { workspaceDisk: disk } : {};
  await startVm(store, id, {
    consoleMaskDir: secretsDir(store, id),
    ttlFromActivity: true,
    ...ownDisk,
    ...options,
  });
  if (options.savedState === undefined)
    await materialiseSecrets(store, id, vmRunner(store, id), guestSecretsDir(store, id));
}
