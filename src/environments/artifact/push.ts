import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, readFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { PyroError } from "../../errors/index.js";
import type { PhaseReporter } from "../../platform/phases.js";
import { checkEnvironment } from "../cache.js";
import { environmentCacheDir, MANIFEST_FILE, STAGING_PREFIX } from "../paths.js";
import { removeTree } from "../remove-tree.js";
import { BlobStore, type TransferProgress } from "../oci/blob-store.js";
import { RegistryClient, type Credentials, type Descriptor } from "../oci/client.js";
import { formatReference, parseReference } from "../oci/reference.js";
import {
  ENVIRONMENT_ARTIFACT_TYPE,
  ENVIRONMENT_CONFIG_MEDIA_TYPE,
  LAYER_ROLES,
  OCI_MANIFEST_MEDIA_TYPE,
  TITLE_ANNOTATION,
} from "./media-types.js";
import { ROOTFS_MEMBER } from "./sparse-format.js";
import { encodeSparseTar } from "./sparse-tar-encode.js";

export interface PushOptions {
  name: string;
  reference: string;
  insecure?: boolean;
  credentials?: Credentials | null;
  onPhase?: PhaseReporter;
  onProgress?(progress: TransferProgress): void;
}

export interface PushResult {
  environment: string;
  reference: string;
  digest: string;
  layers: Array<{ role: string; digest: string; size: number }>;
  uploaded_bytes: number;
  total_bytes: number;
}

/**
 * Publishes an installed environment as an OCI artifact (media-types.ts): its manifest.json as the
 * config, kernel, initramfs and the sparse root image as layers. Blobs the registry already has
 * are not sent again.
 */
export async function pushEnvironment(options: PushOptions): Promise<PushResult> {
  const onPhase = options.onPhase ?? (() => undefined);
  const state = await checkEnvironment(options.name);
  if (state.status !== "installed") {
    throw new PyroError(
      "ENVIRONMENT_NOT_INSTALLED",
      `Environment ${options.name} is not installed, so it cannot be pushed.`,
      {
        hint: `Install it first (\`pyro env pull ${options.name}\` or \`pyro env build ${options.name}\`).`,
        details: { environment: options.name, status: state.status },
      },
    );
  }
  const entry = state.environment;
  const target = parseReference(options.reference);
  if (target.tag === null) {
    throw new PyroError("INVALID_ARGUMENT", `Push needs a tag: ${options.reference}.`, {
      hint: "Name the target like registry.example.com/team/debian:12.",
    });
  }
  const store = new BlobStore(environmentCacheDir());

  onPhase("pack", { environment: options.name });
  const files = { kernel: entry.kernelPath, initramfs: entry.initramfsPath } as const;
  const layers: Descriptor[] = [];
  // A staging folder named for this process: `env prune` and the next install remove it once the push is gone.
  const scratch = await mkdtemp(join(entry.dir, "..", `${STAGING_PREFIX}${process.pid}-push-`));
  try {
    for (const { role, mediaType } of LAYER_ROLES) {
      let descriptor: Descriptor;
      if (role === "rootfs") {
        const layerPath = join(scratch, "rootfs.tar");
        await pipeline(
          Readable.from(encodeSparseTar(entry.rootfsPath, ROOTFS_MEMBER)),
          createWriteStream(layerPath),
        );
        descriptor = await store.addFile(layerPath, mediaType);
      } else {
        descriptor = await store.addFile(files[role], mediaType);
      }
      const title = role === "rootfs" ? `${ROOTFS_MEMBER}.tar` : entry.manifest.files[role].path;
      layers.push({ ...descriptor, annotations: { [TITLE_ANNOTATION]: title } });
    }
  } finally {
    await removeTree(scratch).catch(() => undefined);
  }
  const config = await store.addBytes(
    await readFile(join(entry.dir, MANIFEST_FILE)),
    ENVIRONMENT_CONFIG_MEDIA_TYPE,
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST_MEDIA_TYPE,
      artifactType: ENVIRONMENT_ARTIFACT_TYPE,
      config,
      layers,
      annotations: {
        "org.opencontainers.image.title": entry.name,
        "org.opencontainers.image.version": entry.manifest.version,
        "dev.pyro.environment.name": entry.name,
      },
    }),
  );

  const client = new RegistryClient(target.registry, {
    insecure: options.insecure ?? false,
    credentials: options.credentials ?? null,
  });
  const blobs = [config, ...layers];
  const total = blobs.reduce((sum, blob) => sum + blob.size, 0);
  let uploaded = 0;
  let done = 0;
  let cached = 0;
  let blobsDone = 0;
  const report = (sent: number): void =>
    options.onProgress?.({
      total_bytes: total,
      done_bytes: done + sent,
      cached_bytes: cached,
      blobs_total: blobs.length,
      blobs_done: blobsDone,
    });
  onPhase("upload", { reference: formatReference(target), blobs: blobs.length, total_bytes: total });
  report(0);
  for (const blob of blobs) {
    let sent = 0;
    const sentNow = await client.pushBlob(
      target.repository,
      blob,
      () => createReadStream(store.pathOf(blob.digest)),
      (n) => {
        sent += n;
        uploaded += n;
        report(sent);
      },
    );
    // A blob the registry already had counts as done without a byte sent.
    if (!sentNow) cached += blob.size;
    done += blob.size;
    blobsDone += 1;
    report(0);
  }
  onPhase("manifest", { reference: formatReference(target) });
  const digest = await client.putManifest(target.repository, target.tag, manifest, OCI_MANIFEST_MEDIA_TYPE);
  onPhase("pushed", { reference: formatReference(target), digest, uploaded_bytes: uploaded });
  return {
    environment: entry.name,
    reference: formatReference(target),
    digest,
    layers: layers.map((layer, index) => ({
      role: LAYER_ROLES[index]?.role ?? "layer",
      digest: layer.digest,
      size: layer.size,
    })),
    uploaded_bytes: uploaded,
    total_bytes: total,
  };
}
