import { z } from "zod";
import { PyroError } from "../../errors/index.js";
import {
  MANIFEST_MEDIA_TYPES,
  MAX_LAYERS,
  MAX_MANIFEST_BYTES,
  type Descriptor,
  type ImageIndex,
} from "../oci/manifest-types.js";
import { DIGEST } from "../oci/reference.js";

export const MAX_JSON_BYTES = MAX_MANIFEST_BYTES;

const digest = z.string().regex(DIGEST, "must be a sha256 digest");

const stringList = z.array(z.string().max(32_768)).max(1024);

/** The parts of an image config pyro uses (OCI image-spec config, Docker's is a superset). */
export const imageConfigSchema = z.object({
  created: z.string().max(64).optional(),
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
  const images = index.manifests.filter((entry) =>
    (MANIFEST_MEDIA_TYPES as readonly string[]).includes(entry.mediaType),
  );
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
