import { rm, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import type { Writable } from "node:stream";
import { sha256File } from "../platform/file-digest.js";
import type { ArchiveInputs } from "./build-inputs.js";
import { buildToolVersions, builtInputs, kernelPackageVersion } from "./build-provenance.js";
import type { EnvironmentSpec } from "./catalog.js";
import { makeRootImage } from "./image.js";
import { writeInitramfs } from "./initramfs.js";
import { extractVmlinux, unpackKernelPackage } from "./kernel.js";
import { writeManifest, type EnvironmentManifest, type ManifestFileRecord } from "./manifest.js";
import { resolveModuleLoadOrder } from "./modules.js";
import { removeTree } from "./remove-tree.js";
import { bootstrapRootfs } from "./rootfs.js";
import type { BuildToolPaths } from "./tools.js";

export type PhaseDetail = Record<string, string | number>;

export interface BuildProgress {
  phase: string;
  /** Packages unpacked plus packages set up so far (rootfs phase). */
  count: number;
  /** The line of tool output that moved progress. */
  message: string;
}

export interface BuildStepsContext {
  spec: EnvironmentSpec;
  version: string;
  /** Mirrors, snapshot and SOURCE_DATE_EPOCH (archiveInputs()). */
  archive: ArchiveInputs;
  /** Empty folder that receives the entry's files. */
  staging: string;
  tools: BuildToolPaths;
  log: Writable;
  enterPhase(phase: string, detail?: PhaseDetail): void;
  onProgress?(progress: BuildProgress): void;
}

const KERNEL_FILE = "vmlinux";
const INITRAMFS_FILE = "initramfs.cpio";
const ROOTFS_FILE = "rootfs.ext4";

/**
 * Produces a complete entry in `staging` — vmlinux, initramfs.cpio, rootfs.ext4, manifest.json —
 * and removes the scratch material it needed on the way (root tree, kernel package).
 */
export async function produceEntryFiles(context: BuildStepsContext): Promise<EnvironmentManifest> {
  const { spec, archive, staging, tools, log, enterPhase } = context;
  const toolVersions = await buildToolVersions(tools, log);

  enterPhase("rootfs", {
    suite: spec.suite,
    packages: spec.packages.join(",") || "(minbase only)",
    ...(archive.snapshot !== null ? { snapshot: archive.snapshot } : {}),
  });
  const rootDir = join(staging, "root");
  const kernelDebPath = join(staging, "kernel.deb");
  let progressCount = 0;
  let kernelPackage = basename(kernelDebPath);
  await bootstrapRootfs({
    spec,
    archive,
    mmdebstrap: tools.mmdebstrap,
    rootDir,
    kernelDebPath,
    workDir: staging,
    log,
    onLine: (line) => {
      const kernelMatch = /^pyro: kernel package (\S+)$/.exec(line);
      if (kernelMatch?.[1]) kernelPackage = kernelMatch[1];
      if (/^(Unpacking|Setting up) /.test(line)) progressCount += 1;
      else if (!line.startsWith("I: ")) return;
      context.onProgress?.({ phase: "rootfs", count: progressCount, message: line });
    },
  });

  enterPhase("kernel", { package: kernelPackage });
  const inputs = builtInputs(
    spec,
    archive,
    await kernelPackageVersion(tools["dpkg-deb"], kernelDebPath, log),
    toolVersions,
  );
  const packageRoot = join(staging, "kernel-package");
  const kernel = await unpackKernelPackage(tools["dpkg-deb"], kernelDebPath, packageRoot, log);
  await extractVmlinux(tools.lz4, kernel.vmlinuzPath, join(staging, KERNEL_FILE), log);

  enterPhase("initramfs", { kernel_release: kernel.release });
  const modules = await resolveModuleLoadOrder(tools, packageRoot, kernel.release, log);
  await writeInitramfs(modules, join(staging, INITRAMFS_FILE));
  await rm(packageRoot, { recursive: true, force: true });
  await rm(kernelDebPath, { force: true });

  enterPhase("image", { size_mib: spec.rootfsSizeMiB });
  await makeRootImage({
    mkfsExt4: tools["mkfs.ext4"],
    rootDir,
    imagePath: join(staging, ROOTFS_FILE),
    sizeMiB: spec.rootfsSizeMiB,
    log,
    epoch: archive.sourceDateEpoch,
    identity: `${spec.name}\n${JSON.stringify(inputs)}`,
  });
  await removeTree(rootDir);

  enterPhase("manifest");
  const manifest: EnvironmentManifest = {
    schema: 1,
    name: spec.name,
    version: context.version,
    distribution: spec.distribution,
    suite: spec.suite,
    description: spec.description,
    packages: [...spec.packages],
    kernel_release: kernel.release,
    built_at: new Date().toISOString(),
    source: "local-build",
    provenance: { kind: "built", inputs },
    files: {
      kernel: await fileRecord(staging, KERNEL_FILE),
      initramfs: await fileRecord(staging, INITRAMFS_FILE),
      rootfs: await fileRecord(staging, ROOTFS_FILE),
    },
  };
  await writeManifest(staging, manifest);
  return manifest;
}

async function fileRecord(dir: string, file: string): Promise<ManifestFileRecord> {
  const path = join(dir, file);
  return { path: file, sha256: await sha256File(path), size: (await stat(path)).size };
}
