import { resolve } from "node:path";
import { extractGuestTar } from "../archive/index.js";
import { loadVm } from "../vm-manager.js";
import { archiveFromGuest, pathKind } from "./guest-tar.js";
import { resolveWorkspacePath } from "./paths.js";
import { runningWorkspace } from "./running.js";

export interface ExportResult {
  workspace_id: string;
  path: string;
  output_path: string;
  artifact_type: "file" | "directory";
  entry_count: number;
  bytes_written: number;
  skipped: Array<{ path: string; reason: string }>;
  execution_mode: string;
}

/** Copies a file or directory out of /workspace to the host, never writing outside outputPath. */
export async function exportWorkspace(
  id: string,
  path: string,
  outputPath: string,
  overwrite = false,
): Promise<ExportResult> {
  const { run } = runningWorkspace(id);
  const relative = resolveWorkspacePath(path);
  const expect = await pathKind(run, relative);
  const output = resolve(outputPath);
  const source = archiveFromGuest(run, relative);
  const extracted = extractGuestTar(source.stream, output, { expect, overwrite, root: relative }).catch(
    (error: unknown) => {
      source.stream.destroy(); // the guest's remaining output is discarded, not left waiting
      throw error;
    },
  );
  const [result] = await Promise.all([extracted, source.done]);
  return {
    workspace_id: id,
    path: relative === "." ? "/workspace" : `/workspace/${relative}`,
    output_path: output,
    ...result,
    execution_mode: loadVm(id).execution_mode,
  };
}
