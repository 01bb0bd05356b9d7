import type { SandboxStore } from "../store.js";
import { readFile as readHostFile } from "node:fs/promises";
import { PyroError } from "../../errors/index.js";
import { DEFAULT_READ_LIMIT, listFiles, readFile, writeFile } from "./guest-files.js";
import { touch, updateWorkspace } from "./lock.js";
import { applyPlan, guestReadCurrent, planPatch } from "./patch.js";
import { resolveWorkspacePath } from "./paths.js";
import { runningWorkspace } from "./running.js";
import { withGuestFiles } from "./guest-fs.js";

export const MAX_WRITE_TEXT = 16 * 1024 * 1024;

export async function listWorkspaceFiles(store: SandboxStore, id: string, path = ".", recursive = false) {
  runningWorkspace(store, id);
  const listing = await withGuestFiles(store, id, (files) =>
    listFiles(files, resolveWorkspacePath(path), { recursive }),
  );
  return { workspace_id: id, ...listing };
}

export async function readWorkspaceFile(
  store: SandboxStore,
  id: string,
  path: string,
  maxBytes = DEFAULT_READ_LIMIT,
) {
  runningWorkspace(store, id);
  const result = await withGuestFiles(store, id, (files) =>
    readFile(files, resolveWorkspacePath(path), { maxBytes }),
  );
  return { workspace_id: id, ...result };
}

/** Writes text given inline or read from a host file. */
export async function writeWorkspaceFile(
  store: SandboxStore,
  id: string,
  path: string,
  source: { text?: string; textFile?: string },
) {
  runningWorkspace(store, id);
  const relative = resolveWorkspacePath(path);
  if ((source.text === undefined) === (source.textFile === undefined)) {
    throw new PyroError("INVALID_ARGUMENT", "give exactly one of text and text_file");
  }
  const content =
    source.text !== undefined ? Buffer.from(source.text) : await readHostText(source.textFile as string);
  const result = await withGuestFiles(store, id, (files) => writeFile(files, relative, content));
  await updateWorkspace(store, id, touch);
  return { workspace_id: id, ...result };
}

async function readHostText(path: string): Promise<Buffer> {
  try {
    const content = await readHostFile(path);
    if (content.length > MAX_WRITE_TEXT) {
      throw new PyroError("INVALID_ARGUMENT", `${path} is larger than ${MAX_WRITE_TEXT} bytes`, {
        hint: "Use `pyro workspace sync push` for large files.",
      });
    }
    return content;
  } catch (error) {
    if (error instanceof PyroError) throw error;
    throw new PyroError("FILE_NOT_FOUND", `cannot read ${path}: ${(error as Error).message}`, {
      hint: "text_file is a path on the host; check it exists and is readable.",
      cause: error,
    });
  }
}

/** Applies a unified diff all-or-nothing: every hunk is checked before anything is written. */
export async function applyWorkspacePatch(store: SandboxStore, id: string, patch: string, strip?: number) {
  runningWorkspace(store, id);
  const plan = await withGuestFiles(store, id, async (files) => {
    const planned = await planPatch(patch, guestReadCurrent(files), strip);
    await applyPlan(files, planned);
    return planned;
  });
  await updateWorkspace(store, id, touch);
  return {
    workspace_id: id,
    ...plan.summary,
    strip: plan.strip,
    strip_detected: plan.strip_detected,
    changes: plan.changes.map((change) => ({ path: change.path, action: change.action })),
  };
}
