import { existsSync } from "node:fs";
import { startVm } from "../vm/manager.js";
import { workspaceFiles } from "./record.js";
import type { SandboxStore } from "../store.js";
import { vmRunner } from "./guest-runner.js";
import { guestSecretsDir, materialiseSecrets, secretsDir } from "./secrets.js";

/** Boots a workspace's VM with its secrets: masked in its console log, placed under /run in the guest. */
export async function startWorkspaceVm(store: SandboxStore, id: string): Promise<void> {
  const disk = workspaceFiles(store, id).disk;
  // A workspace with its own disk (made at create) has it in its folder, outside the VM folder a reset replaces.
  const ownDisk = existsSync(disk) ? { workspaceDisk: disk } : {};
  await startVm(store, id, { consoleMaskDir: secretsDir(store, id), ...ownDisk });
  await materialiseSecrets(store, id, vmRunner(store, id), guestSecretsDir(store, id));
}
