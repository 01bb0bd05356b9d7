import { createHash } from "node:crypto";
import { open } from "node:fs/promises";

const CHUNK_BYTES = 8 * 1024 * 1024;

/**
 * Hex sha256 of a file, read in fixed chunks into one reused buffer: root images are gigabytes
 * and never held in memory, and reusing the buffer hashes ~1.5x faster than a read stream.
 */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  const buffer = Buffer.alloc(CHUNK_BYTES);
  const file = await open(path, "r");
  try {
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    await file.close();
  }
  return hash.digest("hex");
}
