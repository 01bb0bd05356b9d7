import type { SandboxStore } from "../store.js";
import { touch, updateWorkspace } from "./lock.js";
import { resolveWorkspacePath } from "./paths.js";
import { runningWorkspace } from "./running.js";
import { extractIntoGuest } from "./guest-extract.js";
import { withGuestFiles } from "./guest-fs.js";
import { tarOfSource } from "./source-tar.js";
import { loadVm } from "../vm/manager.js";
import { workspaceFiles } from "./record.js";

export interface SyncPushResult {
  workspace_id: string;
  mode: "directory" | "file" | "archive";
  source: string;
  destination: string;
  entry_count: number;
  bytes_written: number;
  execution_mode: string;
}

/**
 * Copies a host directory, file or archive into the workspace. Not atomic: a failure part way
 * leaves what was already unpacked (documented); unsafe or oversized sources are refused before
 * any write.
 */
export async function pushWorkspaceSync(
  store: SandboxStore,
  id: string,
  source: string,
  destination = "/workspace",
): Promise<SyncPushResult> {
  runningWorkspace(store, id);
  const relative = resolveWorkspacePath(destination);
  const tar = await tarOfSource(source, workspaceFiles(store, id).dir);
  await withGuestFiles(store, id, (files) => extractIntoGuest(files, relative, tar.stream));
  await updateWorkspace(store, id, touch);
  return {
    workspace_id: id,
    mode: tar.mode,
    source,
    destination: relative === "." ? "/workspace" : `/workspace/${relative}`,
    entry_count: tar.entry_count,
    bytes_written: tar.bytes,
    execution_mode: loadVm(store, id).execution_mode,
  };
}
