import { startVm } from "../vm-manager.js";
import { vmRunner } from "./guest-runner.js";
import { guestSecretsDir, materialiseSecrets, secretsDir } from "./secrets.js";

/** Boots a workspace's VM with its secrets: masked in its console log, placed under /run in the guest. */
export async function startWorkspaceVm(id: string): Promise<void> {
  await startVm(id, { consoleMaskDir: secretsDir(id) });
  await materialiseSecrets(id, vmRunner(id), guestSecretsDir(id));
}
