import { z } from "zod";
import { DIGEST } from "./reference.js";

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
export const DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";

export const MANIFEST_MEDIA_TYPES = [OCI_MANIFEST, DOCKER_MANIFEST] as const;
export const INDEX_MEDIA_TYPES = [OCI_INDEX, DOCKER_MANIFEST_LIST] as const;
export const MANIFEST_ACCEPT = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST].join(", ");

/** Manifests and image configs are small JSON; anything larger is refused. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
export const MAX_LAYERS = 128;
const MAX_INDEX_ENTRIES = 1024;
/** A blob larger than this is not a plausible environment or image layer. */
export const MAX_BLOB_BYTES = 2 ** 45;

const mediaType = z.string().min(1).max(255);
const annotations = z.record(z.string().max(1024), z.string().max(16_384));

export const platformSchema = z.object({
  architecture: z.string().max(64),
  os: z.string().max(64),
  "os.version": z.string().max(256).optional(),
  "os.features": z.array(z.string().max(256)).max(64).optional(),
  variant: z.string().max(64).optional(),
});

export const descriptorSchema = z.object({
  mediaType,
  digest: z.string().regex(DIGEST, "must be sha256: and 64 lowercase hex digits"),
  size: z.number().int().min(0).max(MAX_BLOB_BYTES),
  annotations: annotations.optional(),
  platform: platformSchema.optional(),
  artifactType: mediaType.optional(),
});

export const imageManifestSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: mediaType.optional(),
  artifactType: mediaType.optional(),
  config: descriptorSchema,
  layers: z.array(descriptorSchema).max(MAX_LAYERS),
  annotations: annotations.optional(),
});

export const imageIndexSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: mediaType.optional(),
  manifests: z.array(descriptorSchema).max(MAX_INDEX_ENTRIES),
});

export type Descriptor = z.infer<typeof descriptorSchema>;
export type ImageManifest = z.infer<typeof imageManifestSchema>;
export type ImageIndex = z.infer<typeof imageIndexSchema>;
export type Platform = z.infer<typeof platformSchema>;
