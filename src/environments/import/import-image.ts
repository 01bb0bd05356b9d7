import { createWriteStream, existsSync, type WriteStream } from "node:fs";
import { chmod, mkdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { CapBudget, capValue, type Cap } from "../../archive/caps.js";
import { HostSpaceGuard } from "../../archive/host-space.js";
import { PyroError } from "../../errors/index.js";
import { findExecutable } from "../../platform/find-executable.js";
import { sha256File } from "../../platform/file-digest.js";
import { packageVersion } from "../../platform/package-info.js";
import { findEnvironmentSpec } from "../catalog.js";
import { RELEASE_SOURCE_DATE_EPOCH } from "../build-inputs.js";
import { makeRootImage } from "../image.js";
import { installEntry, makeStaging } from "../install-entry.js";
import type { InstalledEnvironment } from "../installed.js";
import { writeManifest, type EnvironmentManifest } from "../manifest.js";
import type { ImageConfig } from "../manifest-schema.js";
import { BUILD_LOG_FILE, checkEnvironmentName, environmentPaths } from "../paths.js";
import { removeTree } from "../remove-tree.js";
import { applyLayer, type LayerCompression, type UnpackTally } from "./apply-layer.js";
import { finishImportedTree, normaliseWorkingDir } from "./finish-tree.js";
import type { TransferProgress } from "../oci/blob-store.js";
import type { Credentials } from "../oci/client.js";
import type { Descriptor } from "../oci/manifest-types.js";
import type { ImageSource } from "./image-source.js";
import { resolveImageUser } from "./image-user.js";
import { adoptKernel, findKernelDonor, kernelOrigin } from "./kernel-source.js";
import { openLayoutSource, parseLayoutReference } from "./oci-layout.js";
import { openRegistrySource } from "./registry-source.js";
import { RootTree } from "./root-tree.js";

export interface ImportOptions {
  /** A registry reference, or "oci:DIR[:TAG]" (an OCI image layout, e.g. from umoci/skopeo/buildah). */
  image: string;
  /** The new environment's name (not a catalog name). */
  name: string;
  /** Replace an existing import of that name. */
  force?: boolean;
  insecure?: boolean;
  credentials?: Credentials | null;
  /** Called as each phase starts: resolve, fetch, unpack, image, kernel, manifest, installed. */
  onPhase?(phase: string, detail?: Record<string, string | number>): void;
  onProgress?(progress: TransferProgress): void;
  /** The installed environment whose kernel and initramfs the import boots with (default: an installed catalog one). */
  kernelFrom?: InstalledEnvironment;
}

/** Members unpacked from all of an image's layers together. */
export const IMAGE_ENTRIES: Cap = {
  setting: "PYRO_MAX_IMAGE_ENTRIES",
  what: "an imported image",
  unit: "entries",
  fallback: 2_000_000,
};
/** Bytes of files unpacked from all of an image's layers together. */
export const IMAGE_BYTES: Cap = {
  setting: "PYRO_MAX_IMAGE_BYTES",
  what: "an imported image",
  unit: "bytes",
  fallback: 64 * 1024 ** 3,
};

const ROOTFS_FILE = "rootfs.ext4";
const MIN_ROOTFS_MIB = 1024;
/** Free room in an imported root image beyond its content: the guest's disk is also its scratch space. */
const ROOTFS_HEADROOM_MIB = 512;
const MIB = 1024 * 1024;

const LAYER_COMPRESSION: Readonly<Record<string, LayerCompression>> = {
  "application/vnd.oci.image.layer.v1.tar": "none",
  "application/vnd.oci.image.layer.v1.tar+gzip": "gzip",
  "application/vnd.oci.image.layer.nondistributable.v1.tar": "none",
  "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip": "gzip",
  "application/vnd.docker.image.rootfs.diff.tar": "none",
  "application/vnd.docker.image.rootfs.diff.tar.gzip": "gzip",
  "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip": "gzip",
};

/**
 * Turns a container image into an environment that boots with pyro's kernel and agent: its layers
 * unpacked in order into a private staging folder (whiteouts honoured, nothing written outside
 * it), packed into an ext4 root image, paired with an installed environment's kernel, and
 * installed under `name` with the image's Env, WorkingDir, User, Entrypoint and Cmd. On any
 * failure nothing is installed and the staging folder is removed.
 */
export async function importImage(options: ImportOptions): Promise<InstalledEnvironment> {
  const startedAt = Date.now();
  const name = checkImportName(options.name, options.force === true);
  const phase = (next: string, detail: Record<string, string | number> = {}): void =>
    options.onPhase?.(next, { environment: name, ...detail });

  phase("resolve", { image: options.image });
  const source = await openSource(options);
  const compressions = layerCompressions(source);
  const donor = options.kernelFrom ?? (await findKernelDonor());
  const mkfsExt4 = requireMkfs();

  const staging = await makeStaging(name);
  const log = createWriteStream(join(staging, BUILD_LOG_FILE));
  try {
    const { layers } = source.manifest;
    phase("fetch", { layers: layers.length, bytes: layers.reduce((sum, layer) => sum + layer.size, 0) });
    await source.fetchLayers(options.onProgress);

    phase("unpack", { layers: layers.length });
    const root = join(staging, "root");
    await mkdir(root);
    await chmod(root, 0o755);
    const tree = new RootTree(root);
    const tally = await unpackLayers(source, compressions, tree, staging);
    const imageConfig = imageConfigOf(source, tree);
    finishImportedTree(tree, imageConfig.working_dir);

    const sizeMiB = rootImageSizeMiB(tally.bytes, tally.entries);
    phase("image", { size_mib: sizeMiB, entries: tally.entries, bytes: tally.bytes });
    await makeRootImage({
      mkfsExt4,
      rootDir: root,
      imagePath: join(staging, ROOTFS_FILE),
      sizeMiB,
      log,
      epoch: imageEpoch(source.config.created),
      identity: source.manifestDigest,
    });
    await removeTree(root);

    phase("kernel", { from: donor.name });
    const kernelFiles = adoptKernel(donor, staging);

    phase("manifest");
    const manifest: EnvironmentManifest = {
      schema: 1,
      name,
      version: packageVersion(),
      distribution: "image",
      suite: "image",
      description: `Imported from ${source.reference}`,
      packages: [],
      kernel_release: donor.kernelRelease,
      built_at: new Date().toISOString(),
      source: "import",
      image: imageConfig,
      provenance: {
        kind: "imported",
        reference: source.reference,
        manifest_digest: source.manifestDigest,
        kernel_from: kernelOrigin(donor),
      },
      files: {
        ...kernelFiles,
        rootfs: {
          path: ROOTFS_FILE,
          sha256: await sha256File(join(staging, ROOTFS_FILE)),
          size: (await stat(join(staging, ROOTFS_FILE))).size,
        },
      },
    };
    await writeManifest(staging, manifest);
    await closeLog(log);
    const installed = await installEntry(staging, name);
    phase("installed", {
      dir: installed.dir,
      entries: tally.entries,
      bytes: tally.bytes,
      skipped: tally.skipped,
      duration_ms: Date.now() - startedAt,
    });
    return installed;
  } catch (error) {
    await closeLog(log);
    await removeTree(staging).catch(() => undefined);
    throw error;
  }
}

/** The name, checked: not a catalog name, and not an existing environment unless `force`. */
function checkImportName(name: string, force: boolean): string {
  checkEnvironmentName(name);
  if (findEnvironmentSpec(name)) {
    throw new PyroError(
      "INVALID_ARGUMENT",
      `${name} is a catalog environment; an import needs a name of its own.`,
      {
        hint: "Pick another name for the imported image, e.g. myimage:1.",
        details: { environment: name },
      },
    );
  }
  if (!force && environmentExists(name)) {
    throw new PyroError("INVALID_ARGUMENT", `Environment ${name} already exists.`, {
      hint: `Pass --force to replace it, or pick another name.`,
      details: { environment: name },
    });
  }
  return name;
}

function environmentExists(name: string): boolean {
  return existsSync(environmentPaths(name).entryDir);
}

async function openSource(options: ImportOptions): Promise<ImageSource> {
  const layout = parseLayoutReference(options.image);
  if (layout) return openLayoutSource(layout.dir, layout.tag);
  return openRegistrySource(options.image, { insecure: options.insecure, credentials: options.credentials });
}

/** How each layer is compressed, checked before anything is fetched; the config must list every layer. */
function layerCompressions(source: ImageSource): LayerCompression[] {
  const { layers } = source.manifest;
  const diffIds = source.config.rootfs.diff_ids;
  if (diffIds.length !== layers.length) {
    throw new PyroError(
      "IMAGE_UNSAFE",
      `The image's config lists ${diffIds.length} layers, its manifest ${layers.length}.`,
    );
  }
  return layers.map((layer, index) => compressionOf(layer, index + 1));
}

/** Applies every layer in order, each checked against its diff ID from the config. */
async function unpackLayers(
  source: ImageSource,
  compressions: LayerCompression[],
  tree: RootTree,
  staging: string,
): Promise<UnpackTally> {
  const diffIds = source.config.rootfs.diff_ids;
  const space = new HostSpaceGuard(staging, "the imported image");
  await space.start();
  const tally: UnpackTally = {
    entries: 0,
    bytes: 0,
    skipped: 0,
    maxEntries: capValue(IMAGE_ENTRIES),
    budget: new CapBudget(IMAGE_BYTES),
    space,
  };
  for (const [index, layer] of source.manifest.layers.entries()) {
    const number = index + 1;
    try {
      const file = source.layerFile(layer);
      const diffId = await applyLayer(tree, file, compressions[index] ?? "none", number, tally);
      if (diffId !== diffIds[index]) {
        throw new PyroError(
          "DIGEST_MISMATCH",
          `Layer ${number} of the image unpacks to ${diffId}, but its config says ${diffIds[index] ?? "?"}.`,
          { details: { layer: number, expected: diffIds[index] ?? "", actual: diffId } },
        );
      }
    } catch (error) {
      throw space.translate(error);
    }
  }
  return tally;
}

function compressionOf(layer: Descriptor, number: number): LayerCompression {
  const compression = LAYER_COMPRESSION[layer.mediaType];
  if (compression) return compression;
  const zstd = layer.mediaType.endsWith("+zstd");
  throw new PyroError(
    "INVALID_ARGUMENT",
    zstd
      ? `Layer ${number} of the image is zstd-compressed, which pyro cannot unpack.`
      : `Layer ${number} of the image has media type ${layer.mediaType}, which pyro cannot unpack.`,
    {
      hint: zstd
        ? "Recompress the image with gzip, e.g. `skopeo copy --dest-compress-format gzip SRC oci:DIR:TAG`, and import that."
        : "pyro unpacks tar and tar+gzip layers (OCI or Docker media types).",
      details: { layer: number, media_type: layer.mediaType },
    },
  );
}

/** The config's Env, WorkingDir, User (resolved in the unpacked tree), Entrypoint and Cmd. */
function imageConfigOf(source: ImageSource, tree: RootTree): ImageConfig {
  const config = source.config.config ?? {};
  return {
    env: config.Env ?? [],
    working_dir: normaliseWorkingDir(config.WorkingDir),
    user: resolveImageUser(tree.root, config.User),
    entrypoint: config.Entrypoint ?? null,
    cmd: config.Cmd ?? null,
  };
}

/** Content rounded up to 4 KiB blocks plus an inode's worth per member, with headroom; at least 1 GiB. */
export function rootImageSizeMiB(bytes: number, entries: number): number {
  const used = bytes + entries * 4096;
  return Math.max(MIN_ROOTFS_MIB, Math.ceil((used * 1.2) / MIB) + ROOTFS_HEADROOM_MIB);
}

function requireMkfs(): string {
  const path = findExecutable("mkfs.ext4");
  if (path !== null) return path;
  throw new PyroError("DEPENDENCY_MISSING", "Importing an image needs mkfs.ext4, not found.", {
    hint: "Install it: apt-get install -y --no-install-recommends e2fsprogs",
  });
}

function closeLog(log: WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (log.closed) resolve();
    else log.end(() => resolve());
  });
}

/** The image's creation time as the root image's timestamps, so one image always imports alike. */
function imageEpoch(created: string | undefined): number {
  const seconds = created === undefined ? NaN : Math.floor(Date.parse(created) / 1000);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : RELEASE_SOURCE_DATE_EPOCH;
}
