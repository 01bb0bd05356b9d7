import { showControls } from "../archive/git-config.js";
import type { GitMetadataReport } from "../archive/git-metadata.js";

/** Text lines saying what an export removed from the git repositories it holds. */
export function renderGitMetadata(report: GitMetadataReport): string[] {
  if (report.trusted) return ["git metadata kept as the guest wrote it (--trust-git-metadata)"];
  if (report.removed_count === 0) return [];
  const lines = report.removed.map((item) =>
    showControls(`git metadata removed: ${item.path}${item.key === undefined ? "" : ` ${item.key}`}`),
  );
  const more = report.removed_count - report.removed.length;
  return more > 0 ? [...lines, `git metadata removed: ${more} more`] : lines;
}
