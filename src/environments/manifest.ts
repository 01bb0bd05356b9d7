import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { MANIFEST_FILE } from "./paths.js";
import { writeJsonAtomic } from "../platform/atomic-file.js";

/** A file name inside an entry directory: no separators, so a manifest cannot point outside it. */
const entryFileName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "must be a plain file name");

const fileRecordSchema = z.object({
  path: entryFileName,
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().nonnegative(),
});

export const manifestSchema = z.object({
  schema: z.literal(1),
  name: z.string().min(1),
  version: z.string().min(1),
  distribution: z.string().min(1),
  suite: z.string().min(1),
  description: z.string(),
  packages: z.array(z.string()),
  kernel_release: z.string().min(1),
  built_at: z.string().min(1),
  source: z.enum(["local-build", "oci"]),
  files: z.object({
    kernel: fileRecordSchema,
    initramfs: fileRecordSchema,
    rootfs: fileRecordSchema,
  }),
});

export type EnvironmentManifest = z.infer<typeof manifestSchema>;
export type ManifestFileRecord = z.infer<typeof fileRecordSchema>;
export type ManifestFileRole = keyof EnvironmentManifest["files"];

export const MANIFEST_FILE_ROLES: readonly ManifestFileRole[] = ["kernel", "initramfs", "rootfs"];

/** Reads and validates the entry's manifest; throws when it is missing, not JSON or not a valid manifest. */
export async function readManifest(entryDir: string): Promise<EnvironmentManifest> {
  const text = await readFile(join(entryDir, MANIFEST_FILE), "utf8");
  const parsed = manifestSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`invalid ${MANIFEST_FILE}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

export async function writeManifest(entryDir: string, manifest: EnvironmentManifest): Promise<void> {
  writeJsonAtomic(join(entryDir, MANIFEST_FILE), manifest, 0o644);
}
