import { copyFile, link, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { PyroError } from "../../errors/index.js";
import type { PhaseReporter } from "../../platform/phases.js";
import { makeStaging, installEntry } from "../install-entry.js";
import type { InstalledEnvironment } from "../installed.js";
import { parseManifest, writeManifest, type EnvironmentManifest } from "../manifest.js";
import { checkEnvironmentName, environmentCacheDir } from "../paths.js";
import { removeTree } from "../remove-tree.js";
import { stampVerified } from "../verify.js";
import { BlobStore, type BlobConsumer, type TransferProgress } from "../oci/blob-store.js";
import type { RegistryClient } from "../oci/client.js";
import { type Credentials, type Descriptor, type ImageManifest } from "../oci/client.js";
import { formatReference, type ImageReference } from "../oci/reference.js";
import { ENVIRONMENT_CONFIG_MEDIA_TYPE, LAYER_ROLES } from "./media-types.js";
import { SparseTarDecoder } from "./sparse-tar-decode.js";

const MAX_CONFIG_BYTES = 1024 * 1024;

export interface FetchOptions {
  reference: ImageReference;
  insecure: boolean;
  credentials: Credentials | null;
  onPhase: PhaseReporter;
  onProgress?(progress: TransferProgress): void;
}

/** What a registry holds for a reference, before anything is downloaded but the small config. */
export interface RemoteEnvironment {
  reference: string;
  digest: string;
  manifest: EnvironmentManifest;
  layers: Descriptor[];
}

/** Resolves the reference and reads the artifact's config: the environment it would install. */
export async function describeRemote(
  client: RegistryClient,
  store: BlobStore,
  reference: ImageReference,
): Promise<RemoteEnvironment> {
  const tagOrDigest = reference.digest ?? reference.tag ?? "latest";
  const resolved = await client.resolveManifest(reference.repository, tagOrDigest);
  const printable = formatReference(reference);
  const layers = checkArtifactShape(resolved.manifest, printable);
  await store.fetchAll(client, reference.repository, [resolved.manifest.config]);
  let manifest: EnvironmentManifest;
  try {
    manifest = parseManifest(await readFile(store.pathOf(resolved.manifest.config.digest), "utf8"));
    checkEnvironmentName(manifest.name);
  } catch (error) {
    throw new PyroError(
      "REGISTRY_ERROR",
      `${printable} carries an unusable environment manifest: ${describe(error)}.`,
      {
        hint: "Push the environment again with `pyro env push`.",
        cause: error,
      },
    );
  }
  for (const [index, { role }] of LAYER_ROLES.entries()) {
    if (role === "rootfs") continue;
    const file = manifest.files[role];
    const layer = layers[index] as Descriptor;
    if (layer.digest !== `sha256:${file.sha256}` || layer.size !== file.size) {
      throw new PyroError(
        "DIGEST_MISMATCH",
        `${printable}: the ${role} layer does not match the environment manifest.`,
        {
          hint: "Push the environment again with `pyro env push`; nothing was installed.",
        },
      );
    }
  }
  return { reference: printable, digest: resolved.digest, manifest, layers };
}

/** A pyro environment artifact: pyro's config type and exactly its three layers, in order. */
function checkArtifactShape(manifest: ImageManifest, printable: string): Descriptor[] {
  if (manifest.config.mediaType !== ENVIRONMENT_CONFIG_MEDIA_TYPE) {
    throw new PyroError(
      "INVALID_ARGUMENT",
      `${printable} is not a pyro environment (its config is ${manifest.config.mediaType}).`,
      {
        hint: `To make an environment of a container image, run \`pyro env import ${printable} --name NAME\`.`,
      },
    );
  }
  if (manifest.config.size > MAX_CONFIG_BYTES) {
    throw new PyroError(
      "REGISTRY_ERROR",
      `${printable}: the environment manifest is ${manifest.config.size} bytes.`,
    );
  }
  const roles = LAYER_ROLES.map((layer) => layer.mediaType);
  if (
    manifest.layers.length !== roles.length ||
    manifest.layers.some((layer, i) => layer.mediaType !== roles[i])
  ) {
    throw new PyroError(
      "REGISTRY_ERROR",
      `${printable}: the artifact's layers are not kernel, initramfs and root image.`,
      {
        hint: "Push the environment again with `pyro env push`.",
      },
    );
  }
  return manifest.layers;
}

/**
 * Downloads the artifact's layers (in parallel, resuming partials, each verified before it enters
 * the blob store; blobs already there are not fetched) and installs the environment: kernel and
 * initramfs linked from the store, the root image unpacked from its sparse layer while that layer
 * downloads and checked against the environment manifest's digest. The unpacked image is used only
 * once its layer verified; nothing is installed unless everything checks.
 */
export async function installRemote(
  client: RegistryClient,
  store: BlobStore,
  remote: RemoteEnvironment,
  options: Pick<FetchOptions, "reference" | "onPhase" | "onProgress"> & {
    /** Hash cached blobs again (a forced pull repairs an entry whose linked files were damaged). */
    recheck?: boolean;
  },
): Promise<InstalledEnvironment> {
  const name = remote.manifest.name;
  const files = remote.manifest.files;
  const staging = await makeStaging(name);
  const image = new ImageUnpacker(join(staging, files.rootfs.path));
  try {
    options.onPhase("fetch", {
      environment: name,
      reference: remote.reference,
      blobs: remote.layers.length,
      total_bytes: remote.layers.reduce((sum, layer) => sum + layer.size, 0),
    });
    const rootfsLayer = remote.layers[LAYER_ROLES.findIndex(({ role }) => role === "rootfs")] as Descriptor;
    await store.fetchAll(client, options.reference.repository, remote.layers, {
      onProgress: (progress) => options.onProgress?.(progress),
      consumers: new Map([[rootfsLayer.digest, image]]),
      recheck: options.recheck ?? false,
    });

    options.onPhase("unpack", { environment: name });
    await image.finish(files.rootfs, remote.reference);
    for (const [index, { role }] of LAYER_ROLES.entries()) {
      if (role === "rootfs") continue;
      const layer = remote.layers[index] as Descriptor;
      await linkOrCopy(store.pathOf(layer.digest), join(staging, files[role].path));
    }
    const manifest: EnvironmentManifest = {
      ...remote.manifest,
      source: "oci",
      provenance: { kind: "pulled", reference: remote.reference, manifest_digest: remote.digest },
    };
    await writeManifest(staging, manifest);
    // Every file was hashed on its way in (blob digests, the root image while unpacking).
    await stampVerified(staging, manifest);
  } catch (error) {
    await image.abort();
    await removeTree(staging).catch(() => undefined);
    throw error;
  }
  return installEntry(staging, name);
}

/** Unpacks the root image layer as its bytes arrive (a BlobConsumer); starts over when they do. */
class ImageUnpacker implements BlobConsumer {
  private decoder: Promise<SparseTarDecoder>;

  constructor(private readonly target: string) {
    this.decoder = SparseTarDecoder.create(target);
    this.decoder.catch(() => undefined);
  }

  async write(chunk: Buffer): Promise<void> {
    await (await this.decoder).write(chunk);
  }

  async restart(): Promise<void> {
    await this.abort();
    this.decoder = SparseTarDecoder.create(this.target);
  }

  /** Completes the image and checks it against the environment manifest. */
  async finish(expected: EnvironmentManifest["files"]["rootfs"], reference: string): Promise<void> {
    const image = await (await this.decoder).finish();
    if (image.size !== expected.size || image.sha256 !== expected.sha256) {
      throw new PyroError(
        "DIGEST_MISMATCH",
        `${reference}: the root image does not match the environment manifest's digest.`,
        {
          hint: "Push the environment again with `pyro env push`; nothing was installed.",
          details: { expected: expected.sha256, actual: image.sha256 },
        },
      );
    }
  }

  async abort(): Promise<void> {
    const decoder = await this.decoder.catch(() => null);
    await decoder?.abort();
    await rm(this.target, { force: true });
  }
}

async function linkOrCopy(source: string, target: string): Promise<void> {
  try {
    await link(source, target);
  } catch {
    await copyFile(source, target);
  }
}

export function blobStore(): BlobStore {
  return new BlobStore(environmentCacheDir());
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
