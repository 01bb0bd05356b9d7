import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, openSync, readFileSync, rmSync, closeSync, writeSync, ftruncateSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PyroError } from "../../src/errors/index.js";
import { encodeSparseTar } from "../../src/environments/artifact/sparse-tar-encode.js";
import { SparseTarDecoder } from "../../src/environments/artifact/sparse-tar-decode.js";
import { ROOTFS_MEMBER } from "../../src/environments/artifact/sparse-format.js";
import { sha256File } from "../../src/platform/file-digest.js";
import { BlobStore, RegistryClient, type BlobConsumer } from "../../src/environments/oci/index.js";
import { startRegistry, type TestRegistry } from "../helpers/registry.js";

const digestOf = (bytes: Buffer): string => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

/** A 48 MiB sparse image: data at the start, in the middle (unaligned length) and at the very end. */
function makeImage(path: string): void {
  const fd = openSync(path, "w");
  try {
    ftruncateSync(fd, 48 * 1024 * 1024);
    writeSync(fd, randomBytes(3 * 4096), 0, 3 * 4096, 0);
    writeSync(fd, randomBytes(9 * 1024 * 1024 + 100), 0, 9 * 1024 * 1024 + 100, 17 * 1024 * 1024 + 4096);
    writeSync(fd, randomBytes(4096), 0, 4096, 48 * 1024 * 1024 - 4096);
  } finally {
    closeSync(fd);
  }
}

async function layerOf(image: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of encodeSparseTar(image, ROOTFS_MEMBER)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Decodes `layer` into `target`, fed in pieces of random sizes. */
async function decode(layer: Buffer, target: string): Promise<{ size: number; sha256: string }> {
  const decoder = await SparseTarDecoder.create(target);
  for (let at = 0; at < layer.length;) {
    const length = Math.min(layer.length - at, 1 + Math.floor(Math.random() * 200_000));
    await decoder.write(layer.subarray(at, at + length));
    at += length;
  }
  return decoder.finish();
}

/** A consumer decoding into `target`, as a pull does. */
function decodingConsumer(target: string): BlobConsumer & { finish(): Promise<{ sha256: string }> } {
  let decoder = SparseTarDecoder.create(target);
  return {
    write: async (chunk) => (await decoder).write(chunk),
    restart: async () => {
      await (await decoder).abort();
      rmSync(target, { force: true });
      decoder = SparseTarDecoder.create(target);
    },
    finish: async () => (await decoder).finish(),
  };
}

describe("the sparse root image layer, unpacked as it streams", () => {
  const temp = mkdtempSync("/tmp/pyro-sparse-");
  const image = join(temp, "image.ext4");
  let layer: Buffer;
  let registry: TestRegistry;

  beforeAll(async () => {
    makeImage(image);
    layer = await layerOf(image);
    registry = await startRegistry();
  });
  afterAll(async () => {
    await registry.stop();
    rmSync(temp, { recursive: true, force: true });
  });

  it("decodes to the same bytes and the same digest, holes hashed on the worker", async () => {
    const out = join(temp, "decoded.ext4");
    const decoded = await decode(layer, out);
    expect(decoded.size).toBe(48 * 1024 * 1024);
    expect(decoded.sha256).toBe(await sha256File(image));
    expect(readFileSync(out).equals(readFileSync(image))).toBe(true);
  });

  it("feeds a layer to its consumer while downloading and again from the store, and reports a consumer's failure", async () => {
    const client = new RegistryClient(registry.host, { insecure: true, env: {} });
    const descriptor = { mediaType: "application/octet-stream", digest: digestOf(layer), size: layer.length };
    await client.pushBlob("pyro/sparse", descriptor, () => Readable.from([layer]));
    const store = new BlobStore(join(temp, "cache"));
    const expected = await sha256File(image);
    for (const round of ["download", "present"]) {
      const target = join(temp, `${round}.ext4`);
      const consumer = decodingConsumer(target);
      await store.fetchAll(client, "pyro/sparse", [descriptor], {
        consumers: new Map([[descriptor.digest, consumer]]),
      });
      expect((await consumer.finish()).sha256, round).toBe(expected);
    }

    // A consumer that fails on verified bytes: its failure is what the fetch reports.
    const failing: BlobConsumer = {
      write: async () => {
        throw new PyroError("REGISTRY_ERROR", "the consumer choked");
      },
      restart: async () => undefined,
    };
    const other = new BlobStore(join(temp, "cache-2"));
    const error = await other
      .fetchAll(client, "pyro/sparse", [descriptor], { consumers: new Map([[descriptor.digest, failing]]) })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PyroError);
    expect((error as PyroError).message).toContain("choked");
  });
});
