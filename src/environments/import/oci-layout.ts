import { createHash } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { PyroError } from "../../errors/index.js";
import { checkDigest, digestFile, readBounded, type ImageSource } from "./image-source.js";
import type { TransferProgress } from "../oci/blob-store.js";
import {
  imageIndexSchema as indexSchema,
  imageManifestSchema as manifestSchema,
  INDEX_MEDIA_TYPES,
  MANIFEST_MEDIA_TYPES,
  type Descriptor,
} from "../oci/manifest-types.js";
import {
  checkConfigPlatform,
  imageConfigSchema,
  MAX_JSON_BYTES,
  parseImageJson,
  pickAmd64,
} from "./oci-json.js";

const REF_NAME = "org.opencontainers.image.ref.name";

/** "oci:DIR[:TAG]" split as skopeo does (at the first colon after the prefix); null for any other text. */
export function parseLayoutReference(text: string): { dir: string; tag: string | null } | null {
  if (!text.startsWith("oci:")) return null;
  const rest = text.slice("oci:".length);
  const colon = rest.indexOf(":");
  const dir = colon === -1 ? rest : rest.slice(0, colon);
  const tag = colon === -1 ? null : rest.slice(colon + 1);
  if (dir === "" || tag === "") {
    throw new PyroError("INVALID_ARGUMENT", `"${text}" is not an OCI layout reference.`, {
      hint: "Write oci:DIR or oci:DIR:TAG, DIR being a folder written by umoci, skopeo or buildah.",
    });
  }
  return { dir: resolve(dir), tag };
}

/**
 * An image in an OCI image layout folder (index.json, blobs/sha256/…). Every blob read is checked
 * against its digest; the index may name several images (by their ref.name tag) and nest indexes
 * for several platforms, of which linux/amd64 is taken.
 */
export async function openLayoutSource(dir: string, tag: string | null): Promise<ImageSource> {
  const reference = `oci:${dir}${tag === null ? "" : `:${tag}`}`;
  if (!existsSync(join(dir, "oci-layout")) || !existsSync(join(dir, "index.json"))) {
    throw new PyroError(
      "IMAGE_NOT_FOUND",
      `${dir} is not an OCI image layout (no oci-layout and index.json).`,
      {
        hint: "Point oci:DIR at a folder written by `umoci init`, `skopeo copy … oci:DIR:TAG` or `buildah push … oci:DIR`.",
        details: { reference },
      },
    );
  }
  const index = parseImageJson(
    await readBounded(join(dir, "index.json"), MAX_JSON_BYTES, "index.json"),
    indexSchema,
    "index.json",
  );
  let descriptor = pickTagged(index.manifests, tag, reference);
  // Nested indexes (one per platform set) are followed a few levels deep at most.
  for (let depth = 0; (INDEX_MEDIA_TYPES as readonly string[]).includes(descriptor.mediaType); depth += 1) {
    if (depth >= 4) throw new PyroError("IMAGE_UNSAFE", `${reference}: indexes nest too deep.`);
    const nested = parseImageJson(await readBlob(dir, descriptor, "index"), indexSchema, "index");
    descriptor = pickAmd64(nested, reference);
  }
  if (!(MANIFEST_MEDIA_TYPES as readonly string[]).includes(descriptor.mediaType)) {
    throw new PyroError(
      "IMAGE_NOT_FOUND",
      `${reference} names a ${descriptor.mediaType}, not an image manifest.`,
      {
        details: { reference },
      },
    );
  }
  const manifest = parseImageJson(await readBlob(dir, descriptor, "manifest"), manifestSchema, "manifest");
  const config = parseImageJson(await readBlob(dir, manifest.config, "config"), imageConfigSchema, "config");
  checkConfigPlatform(config, reference);

  const verified = new Set<string>();
  return {
    reference,
    manifest,
    manifestDigest: descriptor.digest,
    config,
    async fetchLayers(onProgress?: (progress: TransferProgress) => void): Promise<void> {
      const progress: TransferProgress = {
        total_bytes: manifest.layers.reduce((sum, layer) => sum + layer.size, 0),
        done_bytes: 0,
        cached_bytes: 0,
        blobs_total: manifest.layers.length,
        blobs_done: 0,
      };
      onProgress?.({ ...progress });
      for (const [index, layer] of manifest.layers.entries()) {
        const path = blobPath(dir, layer);
        if (!statSync(path, { throwIfNoEntry: false })?.isFile()) throw missingBlob(reference, layer);
        checkDigest(layer, await digestFile(path), `layer ${index + 1}`);
        verified.add(layer.digest);
        progress.done_bytes += layer.size;
        progress.blobs_done += 1;
        onProgress?.({ ...progress });
      }
    },
    layerFile(layer: Descriptor): string {
      if (!verified.has(layer.digest)) throw new Error(`layer ${layer.digest} was not fetched`);
      return blobPath(dir, layer);
    },
  };
}

/** The index entry for `tag` (its ref.name annotation), or the only entry when no tag is given. */
function pickTagged(entries: Descriptor[], tag: string | null, reference: string): Descriptor {
  const tags = entries.map((entry) => entry.annotations?.[REF_NAME]).filter((name) => name !== undefined);
  const found =
    tag === null
      ? entries.length === 1
        ? entries[0]
        : undefined
      : entries.find((entry) => entry.annotations?.[REF_NAME] === tag);
  if (found) return found;
  throw new PyroError(
    "IMAGE_NOT_FOUND",
    tag === null
      ? `${reference} holds ${entries.length} images; name one with oci:DIR:TAG.`
      : `${reference}: the layout has no image tagged "${tag}".`,
    {
      hint: `Tags in the layout: ${tags.length > 0 ? tags.join(", ") : "none"}.`,
      details: { reference, tags },
    },
  );
}

function blobPath(dir: string, descriptor: Descriptor): string {
  return join(dir, "blobs", "sha256", descriptor.digest.slice("sha256:".length));
}

/** A JSON blob, read whole (bounded) and checked against its digest before it is parsed. */
async function readBlob(dir: string, descriptor: Descriptor, what: string): Promise<Buffer> {
  const path = blobPath(dir, descriptor);
  if (!statSync(path, { throwIfNoEntry: false })?.isFile()) throw missingBlob(`oci:${dir}`, descriptor);
  if (descriptor.size > MAX_JSON_BYTES) {
    throw new PyroError(
      "IMAGE_UNSAFE",
      `The image's ${what} is ${descriptor.size} bytes, more than ${MAX_JSON_BYTES}.`,
    );
  }
  const bytes = await readBounded(path, MAX_JSON_BYTES, what);
  checkDigest(
    descriptor,
    { digest: `sha256:${createHash("sha256").update(bytes).digest("hex")}`, size: bytes.length },
    what,
  );
  return bytes;
}

function missingBlob(reference: string, descriptor: Descriptor): PyroError {
  return new PyroError("IMAGE_NOT_FOUND", `${reference} lacks blob ${descriptor.digest}.`, {
    hint: "The layout is incomplete; copy the image into it again.",
    details: { reference, digest: descriptor.digest },
  });
}
