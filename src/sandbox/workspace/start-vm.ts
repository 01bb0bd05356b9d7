import { startVm } from "../vm/manager.js";
import type { SandboxStore } from "../store.js";
import { vmRunner } from "./guest-runner.js";
import { guestSecretsDir, materialiseSecrets, secretsDir } from "./secrets.js";

/** Boots a workspace's VM with its secrets: masked in its console log, placed under /run in the guest. */
export async function startWorkspaceVm(store: SandboxStore, id: string): Promise<void> {
  await startVm(store, id, { consoleMaskDir: secretsDir(store, id), ttlFromActivity: true });
  await materialiseSecrets(store, id, vmRunner(store, id), guestSecretsDir(store, id));
}
