import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { sha256File } from "../platform/file-digest.js";
import { PyroError } from "../errors/index.js";
import { writeJsonAtomic } from "../platform/atomic-file.js";

/**
 * A VM saved to disk (a pause, or the image a fork starts from): the VMM's state stream, the
 * supervisor's shells/services/ports, and the disks as they were when the VM stopped. The manifest
 * records every file's digest; a resume refuses to run on anything that does not match.
 */
export const savedVmFiles = (dir: string) => ({
  manifest: join(dir, "manifest.json"),
  vmmState: join(dir, "vmm.state"),
  supervisorState: join(dir, "supervisor.state"),
});

export const SavedFile = z.object({
  role: z.enum(["vmm_state", "supervisor_state", "root_disk", "workspace_disk"]),
  path: z.string(),
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type SavedFile = z.infer<typeof SavedFile>;

export const SavedVmManifest = z.object({
  schema: z.literal(1),
  saved_at: z.string(),
  /** Why it was saved: asked for, or the workspace sat idle past its TTL. */
  reason: z.enum(["requested", "ttl_expired"]),
  save_ms: z.number(),
  files: z.array(SavedFile).max(8),
});
export type SavedVmManifest = z.infer<typeof SavedVmManifest>;

export async function describeFile(role: SavedFile["role"], path: string): Promise<SavedFile> {
  return { role, path, bytes: statSync(path).size, sha256: await sha256File(path) };
}

export function writeSavedManifest(dir: string, manifest: SavedVmManifest): void {
  writeJsonAtomic(savedVmFiles(dir).manifest, SavedVmManifest.parse(manifest));
}

/** The manifest of a saved VM in `dir`, or null when there is none. STATE_CORRUPT when unreadable. */
export function readSavedManifest(dir: string): SavedVmManifest | null {
  const path = savedVmFiles(dir).manifest;
  if (!existsSync(path)) return null;
  let parsed;
  try {
    parsed = SavedVmManifest.safeParse(JSON.parse(readFileSync(path, "utf8")));
  } catch (error) {
    throw new PyroError("SAVED_STATE_INVALID", `${path} is not readable JSON`, { cause: error });
  }
  if (!parsed.success) throw new PyroError("SAVED_STATE_INVALID", `${path} is not a saved-VM manifest`);
  return parsed.data;
}

/**
 * Checks every file of a saved VM against its recorded size and digest; SAVED_STATE_INVALID
 * naming the first that differs. Nothing runs on a torn or tampered state.
 */
export async function verifySavedVm(manifest: SavedVmManifest): Promise<void> {
  for (const file of manifest.files) {
    const invalid = (why: string): PyroError =>
      new PyroError("SAVED_STATE_INVALID", `the saved ${file.role.replace("_", " ")} ${file.path} ${why}`);
    if (!existsSync(file.path)) throw invalid("is missing");
    if (statSync(file.path).size !== file.bytes) throw invalid("has changed size since the pause");
    if ((await sha256File(file.path)) !== file.sha256) throw invalid("has changed since the pause");
  }
}
