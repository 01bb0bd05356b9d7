import type { SandboxStore } from "../store.js";
import { createReadStream } from "node:fs";
import { diffIndexes, indexTar, type IndexDiff } from "../../archive/index.js";
import { archiveFromGuest } from "./guest-archive.js";
import { withGuestFiles } from "./guest-fs.js";
import { workspaceFiles } from "./record.js";
import { runningWorkspace } from "./running.js";
import { CompiledSecrets, maskBytes } from "../../secrets/masker.js";
import { maskableSecrets } from "./secrets.js";

export type WorkspaceDiff = { workspace_id: string } & IndexDiff;

/**
 * Compares /workspace now with the immutable baseline captured at create time. Text is kept
 * only for files that changed: digests first, then the current tree, then the baseline again
 * (re-reading the host-side baseline is cheap), so memory follows the change, not the tree.
 */
export async function diffWorkspace(store: SandboxStore, id: string): Promise<WorkspaceDiff> {
  runningWorkspace(store, id);
  const baselinePath = workspaceFiles(store, id).baseline;
  const digests = await indexTar(createReadStream(baselinePath), { keepText: () => false });
  const now = await withGuestFiles(store, id, async (files) => {
    const current = archiveFromGuest(files, ".");
    const [index] = await Promise.all([
      indexTar(current.stream, { keepText: (path, sha256) => digests.get(path)?.sha256 !== sha256 }),
      current.done,
    ]);
    return index;
  });
  const baseline = await indexTar(createReadStream(baselinePath), {
    keepText: (path, sha256) => now.get(path)?.sha256 !== sha256,
  });
  const diff = diffIndexes(baseline, now, {});
  // Guest text: a patch cut short must drop a trailing partial value too, which only this place
  // knows; the other fields are masked with every result (invokeOperation).
  const secrets = CompiledSecrets.of(maskableSecrets(store, id));
  const masked = maskBytes(Buffer.from(diff.patch), secrets, diff.patch_truncated);
  return { workspace_id: id, ...diff, patch: masked.toString("utf8") };
}
