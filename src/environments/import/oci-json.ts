import { z } from "zod";
import { PyroError } from "../../errors/index.js";

/** Manifests, indexes and image configs are small JSON documents; anything bigger is refused. */
export const MAX_JSON_BYTES = 4 * 1024 * 1024;
export const MAX_LAYERS = 128;

export const MEDIA_TYPES = {
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
} as const;

export const INDEX_MEDIA_TYPES: readonly string[] = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerList];
export const MANIFEST_MEDIA_TYPES: readonly string[] = [MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest];

const digest = z.string().regex(/^sha256:[0-9a-f]{64}$/, "must be a sha256 digest");

const platformSchema = z.object({
  architecture: z.string().max(64),
  os: z.string().max(64),
  variant: z.string().max(64).optional(),
});

export const descriptorSchema = z.object({
  mediaType: z.string().min(1).max(256),
  digest,
  size: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  annotations: z.record(z.string().max(4096), z.string().max(65_536)).optional(),
  platform: platformSchema.optional(),
});

export const indexSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().max(256).optional(),
  manifests: z.array(descriptorSchema).max(4096),
});

export const manifestSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().max(256).optional(),
  config: descriptorSchema,
  layers: z.array(descriptorSchema).max(MAX_LAYERS),
});

const stringList = z.array(z.string().max(32_768)).max(1024);

/** The parts of an image config pyro uses (OCI image-spec config, Docker's is a superset). */
export const imageConfigSchema = z.object({
  architecture: z.string().max(64),
  os: z.string().max(64),
  variant: z.string().max(64).optional(),
  config: z
    .object({
      Env: stringList.nullable().optional(),
      WorkingDir: z.string().max(4096).nullable().optional(),
      User: z.string().max(256).nullable().optional(),
      Entrypoint: stringList.nullable().optional(),
      Cmd: stringList.nullable().optional(),
    })
    .nullable()
    .optional(),
  rootfs: z.object({
    type: z.literal("layers"),
    diff_ids: z.array(digest).max(MAX_LAYERS),
  }),
});

export type Descriptor = z.infer<typeof descriptorSchema>;
export type ImageIndex = z.infer<typeof indexSchema>;
export type ImageManifest = z.infer<typeof manifestSchema>;
export type ImageConfigFile = z.infer<typeof imageConfigSchema>;

/** Parses JSON bytes from an image with `schema`; IMAGE_UNSAFE names `what` when they do not fit. */
export function parseImageJson<T>(bytes: Buffer, schema: z.ZodType<T>, what: string): T {
  if (bytes.length > MAX_JSON_BYTES) {
    throw new PyroError("IMAGE_UNSAFE", `The image's ${what} is larger than ${MAX_JSON_BYTES} bytes.`, {
      hint: "Check that the image source is a container image.",
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString("utf8"));
  } catch (error) {
    throw new PyroError("IMAGE_UNSAFE", `The image's ${what} is not valid JSON.`, {
      hint: "Check that the image source is a container image.",
      cause: error,
    });
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join(".") || "(top level)";
    throw new PyroError(
      "IMAGE_UNSAFE",
      `The image's ${what} is not valid: ${where}: ${issue?.message ?? "?"}.`,
      {
        hint: "Check that the image source is a container image.",
      },
    );
  }
  return parsed.data;
}

/** The linux/amd64 entry of an index, or IMAGE_PLATFORM_MISMATCH naming what it holds. */
export function pickAmd64(index: ImageIndex, reference: string): Descriptor {
  const images = index.manifests.filter((entry) => MANIFEST_MEDIA_TYPES.includes(entry.mediaType));
  const match = images.find(
    (entry) => entry.platform?.os === "linux" && entry.platform.architecture === "amd64",
  );
  if (match) return match;
  // An index of one image without platform data is a plain single-image index.
  const [only] = images;
  if (images.length === 1 && only !== undefined && only.platform === undefined) return only;
  throw platformMismatch(
    reference,
    images.map((entry) =>
      entry.platform ? `${entry.platform.os}/${entry.platform.architecture}` : "unknown",
    ),
  );
}

export function platformMismatch(reference: string, found: string[]): PyroError {
  const list = found.length > 0 ? found.join(", ") : "no platforms";
  return new PyroError("IMAGE_PLATFORM_MISMATCH", `${reference} has no linux/amd64 image (it has ${list}).`, {
    details: { reference, platforms: found },
  });
}

/** The image's config, checked to be for linux/amd64. */
export function checkConfigPlatform(config: ImageConfigFile, reference: string): void {
  if (config.os !== "linux" || config.architecture !== "amd64") {
    throw platformMismatch(reference, [`${config.os}/${config.architecture}`]);
  }
}
