import { environmentCacheDir } from "../paths.js";
import { BlobStore, type TransferProgress } from "../oci/blob-store.js";
import { RegistryClient, type Credentials } from "../oci/client.js";
import type { Descriptor } from "../oci/manifest-types.js";
import { formatReference, parseReference } from "../oci/reference.js";
import { readBounded, type ImageSource } from "./image-source.js";
import { checkConfigPlatform, imageConfigSchema, MAX_JSON_BYTES, parseImageJson } from "./oci-json.js";

/**
 * An image in a registry: its manifest resolved (an index followed to linux/amd64), its config and
 * layers fetched into the cache's content-addressed blob store, which verifies every blob's size and
 * digest before keeping it (and skips those it already has).
 */
export async function openRegistrySource(
  text: string,
  options: { insecure?: boolean; credentials?: Credentials | null },
): Promise<ImageSource> {
  const ref = parseReference(text);
  const reference = formatReference(ref);
  const client = new RegistryClient(ref.registry, {
    insecure: options.insecure,
    credentials: options.credentials,
  });
  const resolved = await client.resolveManifest(ref.repository, ref.digest ?? ref.tag ?? "latest");
  const store = new BlobStore(environmentCacheDir());
  const { manifest } = resolved;
  await store.fetchAll(client, ref.repository, [manifest.config]);
  const config = parseImageJson(
    await readBounded(store.pathOf(manifest.config.digest), MAX_JSON_BYTES, "config"),
    imageConfigSchema,
    "config",
  );
  checkConfigPlatform(config, reference);
  const fetched = new Set<string>();
  return {
    reference,
    manifest,
    manifestDigest: resolved.digest,
    config,
    async fetchLayers(onProgress?: (progress: TransferProgress) => void): Promise<void> {
      await store.fetchAll(client, ref.repository, manifest.layers, { onProgress });
      for (const layer of manifest.layers) fetched.add(layer.digest);
    },
    layerFile(layer: Descriptor): string {
      if (!fetched.has(layer.digest)) throw new Error(`layer ${layer.digest} was not fetched`);
      return store.pathOf(layer.digest);
    },
  };
}
