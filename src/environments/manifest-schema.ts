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

/** The part of an image's config every command in it runs with: Env, WorkingDir and User. */
export const imageRunSchema = z.object({
  env: z.array(z.string().max(32_768)).max(1024),
  working_dir: z.string().max(4096).nullable(),
  user: z
    .object({
      spec: z.string().max(256),
      uid: z.number().int().min(0).max(0xfffffffe),
      gid: z.number().int().min(0).max(0xfffffffe),
    })
    .nullable(),
});

/** What an imported container image asks of the commands run in it. */
const imageConfigSchema = imageRunSchema.extend({
  entrypoint: z.array(z.string().max(32_768)).max(1024).nullable(),
  cmd: z.array(z.string().max(32_768)).max(1024).nullable(),
});

const digestString = z.string().regex(/^sha256:[0-9a-f]{64}$/);

/** Where the entry came from: built here, pulled from a registry, or imported from an image. */
const provenanceSchema = z.union([
  z.object({
    kind: z.literal("built"),
    inputs: z.record(z.string(), z.union([z.string(), z.number(), z.array(z.string()), z.null()])),
  }),
  z.object({ kind: z.literal("pulled"), reference: z.string().min(1), manifest_digest: digestString }),
  z.object({
    kind: z.literal("imported"),
    reference: z.string().min(1),
    manifest_digest: digestString,
    kernel_from: z.string().min(1),
  }),
]);

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
  source: z.enum(["local-build", "oci", "import"]),
  image: imageConfigSchema.optional(),
  provenance: provenanceSchema.optional(),
  files: z.object({
    kernel: fileRecordSchema,
    initramfs: fileRecordSchema,
    rootfs: fileRecordSchema,
  }),
});

export type EnvironmentManifest = z.infer<typeof manifestSchema>;
export type ManifestFileRecord = z.infer<typeof fileRecordSchema>;
export type ImageConfig = z.infer<typeof imageConfigSchema>;
export type Provenance = z.infer<typeof provenanceSchema>;
export type ManifestFileRole = keyof EnvironmentManifest["files"];
