import { applyPatch, parsePatch, type StructuredPatch, type StructuredPatchHunk } from "diff";
import { PyroError } from "../../errors/index.js";
import { resolveWorkspacePath } from "./paths.js";
import { chooseStrip, epochHeader, stripName, type StripChoice } from "./patch-strip.js";

export { applyPlan, guestReadCurrent, MAX_PATCHED_FILE_BYTES } from "./patch-apply.js";

export type PatchAction = "add" | "modify" | "delete";

export interface PatchChange {
  /** Relative to /workspace. */
  path: string;
  action: PatchAction;
  /** The file's new text (absent for a delete). */
  content?: string;
}

export interface PatchSummary {
  total: number;
  added: number;
  modified: number;
  deleted: number;
}

export interface PatchPlan extends StripChoice {
  changes: PatchChange[];
  summary: PatchSummary;
}

/** A file's current text, or null when it does not exist. */
export type ReadCurrent = (relativePath: string) => Promise<string | null>;

const DEV_NULL = "/dev/null";

/**
 * Works out every file's new content from a unified diff (git-style or plain) without writing
 * anything. All or nothing: the first file or hunk that does not apply throws PATCH_FAILED naming
 * it, and no partial plan is returned. Later sections may build on earlier ones for the same file.
 */
export async function planPatch(
  patchText: string,
  readCurrent: ReadCurrent,
  strip?: number,
): Promise<PatchPlan> {
  const filePatches = parseFilePatches(patchText);
  const original = new Map<string, string | null>();
  const working = new Map<string, string | null>();
  const read = new Map<string, Promise<string | null>>();
  const cachedRead = (path: string): Promise<string | null> => {
    if (!read.has(path)) read.set(path, readCurrent(path));
    return read.get(path) as Promise<string | null>;
  };
  const current = async (path: string): Promise<string | null> => {
    if (!working.has(path)) {
      const text = await cachedRead(path);
      original.set(path, text);
      working.set(path, text);
    }
    return working.get(path) ?? null;
  };
  const choice = await chooseStrip(filePatches, async (path) => (await cachedRead(path)) !== null, strip);

  for (const patch of filePatches) {
    const { oldPath, newPath } = patchPaths(patch, choice.strip);
    if (patch.isBinary)
      fail(`the change to ${newPath ?? oldPath} is binary; only text patches apply`, newPath ?? oldPath);
    if (oldPath === null || patch.isCreate) {
      const path = required(newPath, patch);
      if ((await current(path)) !== null) fail(`${path} already exists, but the patch adds it`, path);
      working.set(path, applyHunks("", patch, path));
    } else if (newPath === null || patch.isDelete) {
      const text = await existing(current, oldPath);
      if (applyHunks(text, patch, oldPath) !== "") {
        fail(`${oldPath} does not match the content the patch deletes`, oldPath);
      }
      working.set(oldPath, null);
    } else if (patch.isRename || patch.isCopy) {
      const text = await existing(current, oldPath);
      if ((await current(newPath)) !== null)
        fail(`${newPath} already exists, but the patch creates it`, newPath);
      working.set(newPath, applyHunks(text, patch, oldPath));
      if (patch.isRename) working.set(oldPath, null);
    } else {
      working.set(newPath, applyHunks(await existing(current, newPath), patch, newPath));
    }
  }
  return { ...summarise(original, working), ...choice };
}

function parseFilePatches(patchText: string): StructuredPatch[] {
  if (patchText.trim() === "") throw new PyroError("INVALID_ARGUMENT", "the patch is empty");
  let parsed: StructuredPatch[];
  try {
    parsed = parsePatch(patchText);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new PyroError("INVALID_ARGUMENT", `the patch is not a valid unified diff: ${reason}`, {
      cause: error,
    });
  }
  // Text before the first header parses as an entry without names; git create/delete/rename of
  // an empty file has names but no hunks.
  const files = parsed.filter((patch) => patch.oldFileName !== undefined || patch.newFileName !== undefined);
  if (files.length === 0) {
    throw new PyroError(
      "INVALID_ARGUMENT",
      "the patch holds no file changes (expected ---/+++ headers and @@ hunks)",
    );
  }
  return files;
}

/**
 * The old and new workspace paths of one file's patch, `strip` leading components removed; null
 * stands for a missing side (/dev/null, or diff -N's epoch time stamp).
 */
function patchPaths(
  patch: StructuredPatch,
  strip: number,
): { oldPath: string | null; newPath: string | null } {
  const toPath = (name: string | undefined, header: string | undefined): string | null => {
    if (name === undefined || name === DEV_NULL || epochHeader(header)) return null;
    const stripped = stripName(name, strip);
    if (stripped === null) {
      throw new PyroError(
        "PATCH_FAILED",
        `the patch names ${name}, which has fewer than ${strip + 1} path parts`,
        {
          hint: "Nothing was changed. Pass a smaller --strip, or leave it out to find the level automatically.",
          details: { file: name },
        },
      );
    }
    const path = resolveWorkspacePath(stripped);
    if (path === ".") throw new PyroError("INVALID_ARGUMENT", `the patch names /workspace itself as a file`);
    return path;
  };
  return {
    oldPath: toPath(patch.oldFileName, patch.oldHeader),
    newPath: toPath(patch.newFileName, patch.newHeader),
  };
}

function required(path: string | null, patch: StructuredPatch): string {
  if (path === null) {
    throw new PyroError("INVALID_ARGUMENT", "a file's patch has /dev/null on both sides", {
      details: { old: patch.oldFileName, new: patch.newFileName },
    });
  }
  return path;
}

async function existing(current: (path: string) => Promise<string | null>, path: string): Promise<string> {
  const text = await current(path);
  if (text === null) fail(`${path} does not exist, but the patch changes it`, path);
  return text;
}

/** Applies one file's hunks strictly (no fuzz); on failure finds the first hunk that does not fit. */
function applyHunks(source: string, patch: StructuredPatch, path: string): string {
  const result = tryApply(source, patch, patch.hunks);
  if (result !== false) return result;
  for (let count = 1; count <= patch.hunks.length; count++) {
    if (tryApply(source, patch, patch.hunks.slice(0, count)) === false) {
      const hunk = patch.hunks[count - 1] as StructuredPatchHunk;
      const header = `@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@`;
      throw new PyroError("PATCH_FAILED", `hunk ${count} (${header}) of ${path} does not apply`, {
        details: { file: path, hunk: count, header },
      });
    }
  }
  return fail(`${path}: the patch does not apply`, path);
}

function tryApply(source: string, patch: StructuredPatch, hunks: StructuredPatchHunk[]): string | false {
  try {
    return applyPatch(source, { ...patch, hunks }, { fuzzFactor: 0 });
  } catch {
    // jsdiff throws on hunks whose line counts do not match their header: treat as not applying.
    return false;
  }
}

function fail(message: string, file: string | null): never {
  throw new PyroError("PATCH_FAILED", message, { details: { file } });
}

function summarise(
  original: Map<string, string | null>,
  working: Map<string, string | null>,
): Omit<PatchPlan, keyof StripChoice> {
  const changes: PatchChange[] = [];
  for (const [path, content] of working) {
    const before = original.get(path) ?? null;
    if (before === null && content === null) continue; // added, then deleted again
    if (content === null) changes.push({ path, action: "delete" });
    else changes.push({ path, action: before === null ? "add" : "modify", content });
  }
  const count = (action: PatchAction): number => changes.filter((change) => change.action === action).length;
  return {
    changes,
    summary: {
      total: changes.length,
      added: count("add"),
      modified: count("modify"),
      deleted: count("delete"),
    },
  };
}
