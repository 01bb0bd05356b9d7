import { neutraliseGitMetadata, type GitMetadataReport } from "../../archive/git-metadata.js";
import type { ArtifactType } from "../../archive/index.js";

/**
 * The export step that keeps guest-written git hooks and config keys from running on the host:
 * `beforePlace` neutralises the staged tree (unless trusted), `report` says what it did.
 */
export function gitExportGuard(trusted: boolean, exportedPath: string) {
  let report: GitMetadataReport = {
    trusted,
    git_dirs: [],
    git_dir_count: 0,
    removed: [],
    removed_count: 0,
  };
  return {
    beforePlace: async (staged: string, artifactType: ArtifactType): Promise<void> => {
      if (!trusted && artifactType === "directory")
        report = await neutraliseGitMetadata(staged, exportedPath);
    },
    report: (): GitMetadataReport => report,
  };
}
