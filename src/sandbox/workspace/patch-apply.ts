import { PyroError } from "../../errors/index.js";
import type { GuestRunner } from "./guest-runner.js";
import { readFile, removePaths, writeFile } from "./guest-files.js";
import type { PatchPlan, ReadCurrent } from "./patch.js";

/** Largest file a patch may change; its whole text is held in memory while planning. */
export const MAX_PATCHED_FILE_BYTES = 16 * 1024 * 1024;

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** readCurrent for planPatch backed by the guest: null for a missing file; text files only. */
export function guestReadCurrent(run: GuestRunner): ReadCurrent {
  return async (relativePath) => {
    let file;
    try {
      file = await readFile(run, relativePath, { maxBytes: MAX_PATCHED_FILE_BYTES });
    } catch (error) {
      if (error instanceof PyroError && error.code === "FILE_NOT_FOUND") return null;
      throw error;
    }
    if (file.truncated) {
      throw new PyroError("PATCH_FAILED", `${file.path} is larger than ${MAX_PATCHED_FILE_BYTES} bytes`, {
        details: { file: relativePath },
      });
    }
    try {
      return strictUtf8.decode(file.content);
    } catch {
      throw new PyroError("PATCH_FAILED", `${file.path} is not UTF-8 text`, {
        details: { file: relativePath },
      });
    }
  };
}

/**
 * Carries out a plan: deletions first (a patch may replace a file by a directory of the same name),
 * then each added or modified file, written atomically on its own.
 */
export async function applyPlan(run: GuestRunner, plan: PatchPlan): Promise<void> {
  const deletions = plan.changes.filter((change) => change.action === "delete").map((change) => change.path);
  await removePaths(run, deletions);
  for (const change of plan.changes) {
    if (change.action === "delete") continue;
    await writeFile(run, change.path, Buffer.from(change.content ?? "", "utf8"));
  }
}
