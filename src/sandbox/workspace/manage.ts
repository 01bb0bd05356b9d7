import { PyroError } from "../../errors/index.js";
import type { SandboxStore } from "../store.js";
import { supervisorControl } from "../supervisor-client.js";
import { deleteVm, isSupervisorAlive, loadVm } from "../vm/manager.js";
import { readHistory, type HistoryEntry } from "./history.js";
import { touch, updateWorkspace as updateRecord, withWorkspaceLock } from "./lock.js";
import { validateLabels, validateName } from "./naming.js";
import { readWorkspaceRecord } from "./record.js";
import { maskDeep } from "../../secrets/masker.js";
import { maskableSecrets } from "./secrets.js";
import { workspaceInfo, type WorkspaceInfo } from "./views.js";

export async function statusWorkspace(store: SandboxStore, id: string): Promise<WorkspaceInfo> {
  const info = workspaceInfo(store, readWorkspaceRecord(store, id));
  const published =
    info.state === "running"
      ? await supervisorControl(store, id)
          .ports()
          .catch(() => [])
      : [];
  return { ...info, published_ports: published };
}

export interface WorkspaceChanges {
  name?: string | null | undefined;
  labels?: Record<string, string> | undefined;
  clearLabels?: string[] | undefined;
  /** A new TTL counted from now; a running VM's supervisor is told at once. */
  ttlSeconds?: number | undefined;
}

/** Renames, relabels (labels given are set, cleared ones removed) and changes the TTL. */
export async function changeWorkspace(
  store: SandboxStore,
  id: string,
  changes: WorkspaceChanges,
): Promise<WorkspaceInfo> {
  const record = await updateRecord(store, id, (current) => {
    if (changes.name !== undefined) current.workspace.name = validateName(changes.name);
    // Caller text kept in workspace.json: no secret value of this workspace in it.
    const given = maskDeep(changes.labels ?? {}, maskableSecrets(store, id));
    const labels = { ...current.workspace.labels, ...given };
    for (const key of changes.clearLabels ?? []) delete labels[key];
    current.workspace.labels = validateLabels(labels);
    if (changes.ttlSeconds !== undefined) {
      current.ttl_seconds = changes.ttlSeconds;
      current.expires_at = new Date(Date.now() + changes.ttlSeconds * 1000).toISOString();
    }
    touch(current);
  });
  if (changes.ttlSeconds !== undefined && isSupervisorAlive(store, loadVm(store, id))) {
    // A VM that stopped meanwhile starts with the recorded TTL: nothing more to tell.
    await supervisorControl(store, id)
      .setTtl({ ttl_seconds: changes.ttlSeconds })
      .catch((error: unknown) => {
        if (!(error instanceof PyroError && (error.code === "VM_NOT_RUNNING" || error.code === "VM_EXPIRED")))
          throw error;
      });
  }
  return workspaceInfo(store, record);
}

export function workspaceLogs(
  store: SandboxStore,
  id: string,
): { workspace_id: string; commands: HistoryEntry[]; count: number } {
  readWorkspaceRecord(store, id);
  const commands = readHistory(store, id);
  return { workspace_id: id, commands, count: commands.length };
}

/** Stops the sandbox and removes everything the workspace had, snapshots included. */
export async function deleteWorkspace(
  store: SandboxStore,
  id: string,
): Promise<{ workspace_id: string; deleted: boolean }> {
  await withWorkspaceLock(store, id, () => deleteVm(store, id));
  return { workspace_id: id, deleted: true };
}
