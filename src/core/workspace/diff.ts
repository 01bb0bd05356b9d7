import { createReadStream } from "node:fs";
import { diffIndexes, indexTar } from "../archive/index.js";
import { archiveFromGuest } from "./guest-tar.js";
import { workspaceFiles } from "./record.js";
import { runningWorkspace } from "./running.js";
import { CompiledSecrets, maskBytes, maskDeep, maskPrefix } from "../secret-masker.js";
import { maskableSecrets } from "./secrets.js";

export interface WorkspaceDiff {
  workspace_id: string;
  summary: {
    total: number;
    added: number;
    modified: number;
    deleted: number;
    type_changed: number;
    text_patched: number;
    non_text: number;
  };
  changes: Array<{ path: string; status: string; text: boolean }>;
  patch: string;
  patch_truncated: boolean;
}

/**
 * Compares /workspace now with the immutable baseline captured at create time. Text is kept
 * only for files that changed: digests first, then the current tree, then the baseline again
 * (re-reading the host-side baseline is cheap), so memory follows the change, not the tree.
 */
export async function diffWorkspace(id: string): Promise<WorkspaceDiff> {
  const { run } = runningWorkspace(id);
  const baselinePath = workspaceFiles(id).baseline;
  const digests = await indexTar(createReadStream(baselinePath), { keepText: () => false });
  const current = archiveFromGuest(run, ".");
  const [now] = await Promise.all([
    indexTar(current.stream, { keepText: (path, sha256) => digests.get(path)?.sha256 !== sha256 }),
    current.done,
  ]);
  const baseline = await indexTar(createReadStream(baselinePath), {
    keepText: (path, sha256) => now.get(path)?.sha256 !== sha256,
  });
  const diff = diffIndexes(baseline, now, {});
  // Guest text: secret values are masked; a patch cut short drops a trailing partial value too.
  const secrets = CompiledSecrets.of(maskableSecrets(id));
  const patch = Buffer.from(diff.patch);
  const masked = diff.patch_truncated ? maskPrefix(patch, secrets) : maskBytes(patch, secrets);
  return { workspace_id: id, ...maskDeep(diff, secrets), patch: masked.toString("utf8") };
}
