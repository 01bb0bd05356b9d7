import { PyroError } from "../../errors/index.js";
import type { FileOps } from "../../agent-protocol/file-ops.js";
import { readFile, removePaths, writeFile } from "./guest-files.js";
import type { PatchPlan, ReadCurrent } from "./patch.js";

/** Largest file a patch may change; its whole text is held in memory while planning. */
export const MAX_PATCHED_FILE_BYTES = 16 * 1024 * 1024;

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** readCurrent for planPatch backed by the guest: null for a missing file; text files only. */
export function guestReadCurrent(files: FileOps): ReadCurrent {
  return async (relativePath) => {
    let file;
    try {
      file = await readFile(files, relativePath, { maxBytes: MAX_PATCHED_FILE_BYTES });
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
export async function applyPlan(files: FileOps, plan: PatchPlan): Promise<void> {
  const deletions = plan.changes.filter((change) => change.action === "delete").map((change) => change.path);
  await removePaths(files, deletions);
  // Pipelined: the agent takes the writes in order, each still atomic on its own.
  await Promise.all(
    plan.changes
      .filter((change) => change.action !== "delete")
      .map((change) => writeFile(files, change.path, Buffer.from(change.content ?? "", "utf8"))),
  );
}
