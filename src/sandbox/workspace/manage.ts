import { rmSync } from "node:fs";
import { supervisorControl } from "../supervisor-client.js";
import { deleteVm } from "../vm-manager.js";
import { readHistory, type HistoryEntry } from "./history.js";
import { touch, updateWorkspace as updateRecord, withWorkspaceLock } from "./lock.js";
import { validateLabels, validateName } from "./naming.js";
import { readWorkspaceRecord, workspaceFiles } from "./record.js";
import { maskDeep } from "../../secrets/masker.js";
import { maskableSecrets } from "./secrets.js";
import { workspaceInfo, type WorkspaceInfo } from "./views.js";

export async function statusWorkspace(id: string): Promise<WorkspaceInfo> {
  const info = workspaceInfo(readWorkspaceRecord(id));
  const published =
    info.state === "running"
      ? await supervisorControl(id)
          .ports()
          .catch(() => [])
      : [];
  return { ...info, published_ports: published };
}

export interface WorkspaceChanges {
  name?: string | null | undefined;
  labels?: Record<string, string> | undefined;
  clearLabels?: string[] | undefined;
}

/** Renames and relabels; labels given are set, cleared ones removed. */
export async function changeWorkspace(id: string, changes: WorkspaceChanges): Promise<WorkspaceInfo> {
  const record = await updateRecord(id, (current) => {
    if (changes.name !== undefined) current.name = validateName(changes.name);
    // Caller text kept in workspace.json: no secret value of this workspace in it.
    const given = maskDeep(changes.labels ?? {}, maskableSecrets(id));
    const labels = { ...current.labels, ...given };
    for (const key of changes.clearLabels ?? []) delete labels[key];
    current.labels = validateLabels(labels);
    touch(current);
  });
  return workspaceInfo(record);
}

export function workspaceLogs(id: string): { workspace_id: string; commands: HistoryEntry[]; count: number } {
  readWorkspaceRecord(id);
  const commands = readHistory(id);
  return { workspace_id: id, commands, count: commands.length };
}

/** Stops the sandbox and removes everything the workspace had, snapshots included. */
export async function deleteWorkspace(id: string): Promise<{ workspace_id: string; deleted: boolean }> {
  await withWorkspaceLock(id, async () => {
    await deleteVm(id).catch(() => undefined);
  });
  rmSync(workspaceFiles(id).dir, { recursive: true, force: true });
  return { workspace_id: id, deleted: true };
}
