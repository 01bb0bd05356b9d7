import type { SandboxStore } from "../store.js";
import { resolve } from "node:path";
import { extractGuestTar } from "../../archive/index.js";
import { loadVm } from "../vm/manager.js";
import type { GitMetadataReport } from "../../archive/git-metadata.js";
import { gitExportGuard } from "./export-git-guard.js";
import { archiveFromGuest } from "./guest-archive.js";
import { withGuestFiles } from "./guest-fs.js";
import { guestFileError } from "./guest-file-errors.js";
import { FsScope } from "../../agent-protocol/fs-messages.js";
import type { FileOps } from "../../agent-protocol/file-ops.js";
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
  git_metadata: GitMetadataReport;
  execution_mode: string;
}

/** Copies a file or directory out of /workspace to the host, never writing outside outputPath. */
export async function exportWorkspace(
  store: SandboxStore,
  id: string,
  path: string,
  outputPath: string,
  overwrite = false,
  trustGitMetadata = false,
): Promise<ExportResult> {
  runningWorkspace(store, id);
  const relative = resolveWorkspacePath(path);
  const output = resolve(outputPath);
  const git = gitExportGuard(trustGitMetadata, relative === "." ? "workspace" : relative);
  const result = await withGuestFiles(store, id, (files) =>
    exportFromGuest(files, relative, output, overwrite, git),
  );
  return {
    workspace_id: id,
    path: relative === "." ? "/workspace" : `/workspace/${relative}`,
    output_path: output,
    ...result,
    git_metadata: git.report(),
    execution_mode: loadVm(store, id).execution_mode,
  };
}

async function exportFromGuest(
  files: FileOps,
  relative: string,
  output: string,
  overwrite: boolean,
  git: ReturnType<typeof gitExportGuard>,
) {
  const self = await files.list(relative, { scope: FsScope.SELF, maxEntries: 1 }).catch((error: unknown) => {
    throw guestFileError(error, relative, "inspecting");
  });
  const expect = self.entries[0]?.type === "directory" ? "directory" : "file";
  const source = archiveFromGuest(files, relative);
  // The host side's failure (a limit, a full disk) explains the guest's, not the other way round.
  const extraction = extractGuestTar(source.stream, output, {
    expect,
    overwrite,
    root: relative,
    beforePlace: git.beforePlace,
  }).catch((error: unknown) => {
    source.stream.destroy(); // stops reading the guest, which may never have been read from
    throw error;
  });
  const [extracted, finished] = await Promise.allSettled([extraction, source.done]);
  if (extracted.status === "rejected") throw extracted.reason;
  if (finished.status === "rejected") throw finished.reason;
  return extracted.value;
}
