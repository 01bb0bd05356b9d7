import { z } from "zod";

/** A file name inside an entry directory: no separators, so a manifest cannot point outside it. */
const entryFileName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "must be a plain file name")
  // The manifest is read without zod (manifest.ts): its JSON Schema carries the meaning this way.
  .describe("must be a plain file name");

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
