import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { PyroError } from "../../errors/index.js";
import type { TransferProgress } from "../oci/blob-store.js";
import type { Descriptor, ImageManifest } from "../oci/manifest-types.js";
import type { ImageConfigFile } from "./oci-json.js";

/**
 * One image, wherever it lives: its manifest and config already read and checked, and its layers
 * reachable as local files whose bytes match their digests.
 */
export interface ImageSource {
  /** How the image was named, normalised (recorded as the environment's provenance). */
  readonly reference: string;
  readonly manifest: ImageManifest;
  readonly manifestDigest: string;
  readonly config: ImageConfigFile;
  /** Makes every layer available locally and verified (downloads, or hashes a local copy). */
  fetchLayers(onProgress?: (progress: TransferProgress) => void): Promise<void>;
  /** The verified local file of a layer (after fetchLayers). */
  layerFile(descriptor: Descriptor): string;
}

/** sha256 of a file as "sha256:<hex>" and its size, read as a stream. */
export async function digestFile(path: string): Promise<{ digest: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
    if (!Buffer.isBuffer(chunk)) throw new TypeError("a file stream gave text, not bytes");
    size += chunk.length;
    hash.update(chunk);
  }
  return { digest: `sha256:${hash.digest("hex")}`, size };
}

/** DIGEST_MISMATCH unless `actual` matches what `descriptor` promises. */
export function checkDigest(
  descriptor: Descriptor,
  actual: { digest: string; size: number },
  what: string,
): void {
  if (actual.size === descriptor.size && actual.digest === descriptor.digest) return;
  throw new PyroError(
    "DIGEST_MISMATCH",
    `The image's ${what} does not match its descriptor: ${actual.size} bytes with digest ${actual.digest}, expected ${descriptor.size} bytes with ${descriptor.digest}.`,
    { details: { expected: descriptor.digest, actual: actual.digest } },
  );
}

/** Reads a small file (at most `limit` bytes) whole; a bigger one is refused before it is read. */
export async function readBounded(path: string, limit: number, what: string): Promise<Buffer> {
  const handle = await open(path, "r");
  try {
    const { size } = await handle.stat();
    if (size > limit) {
      throw new PyroError("IMAGE_UNSAFE", `The image's ${what} is ${size} bytes, more than ${limit}.`, {
        hint: "Check that the image source is a container image.",
      });
    }
    const buffer = Buffer.alloc(size);
    let offset = 0;
    while (offset < size) {
      const { bytesRead } = await handle.read(buffer, offset, size - offset, offset);
      if (bytesRead === 0) break;
      offset += bytesRead;
    }
    return buffer.subarray(0, offset);
  } finally {
    await handle.close();
  }
}
