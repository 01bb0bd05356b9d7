import { randomBytes } from "node:crypto";
import { createWriteStream, type WriteStream } from "node:fs";
import { chmod, mkdir, mkdtemp, rename, rm, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { PyroError } from "../errors/index.js";
import { getEnvironmentSpec, type EnvironmentSpec } from "./catalog.js";
import { sha256File } from "./hash.js";
import { makeRootImage } from "./image.js";
import { writeInitramfs } from "./initramfs.js";
import { installedEnvironment, type InstalledEnvironment } from "./installed.js";
import { extractVmlinux, unpackKernelPackage } from "./kernel.js";
import { findBuildLeftovers } from "./leftovers.js";
import { acquireLock } from "./lock.js";
import { writeManifest, type EnvironmentManifest, type ManifestFileRecord } from "./manifest.js";
import { resolveModuleLoadOrder } from "./modules.js";
import { packageVersion } from "../package-info.js";
import {
  ASIDE_PREFIX,
  BUILD_LOG_FILE,
  environmentPaths,
  fileSystemSafeName,
  STAGING_PREFIX,
  type EnvironmentPaths,
} from "./paths.js";
import { removeTree } from "./remove-tree.js";
import { bootstrapRootfs } from "./rootfs.js";
import { ToolFailure } from "./run-tool.js";
import { requireBuildTools, requireRoot, type BuildToolPaths } from "./tools.js";
import { checkEntry } from "./verify.js";

export type PhaseDetail = Record<string, string | number>;

export interface BuildProgress {
  phase: string;
  /** Packages unpacked plus packages set up so far (rootfs phase). */
  count: number;
  /** The line of tool output that moved progress. */
  message: string;
}

export interface BuildOptions {
  /** Rebuild even if a valid entry is installed. */
  force?: boolean;
  /** Called as each phase starts: wait-lock, rootfs, kernel, initramfs, image, manifest, verify, installed. */
  onPhase?(phase: string, detail?: PhaseDetail): void;
  onProgress?(progress: BuildProgress): void;
  /** How long to wait for another process's build of the same environment (default 30 min). */
  lockTimeoutMs?: number;
}

const DEFAULT_LOCK_TIMEOUT_MS = 30 * 60_000;

const KERNEL_FILE = "vmlinux";
const INITRAMFS_FILE = "initramfs.cpio";
const ROOTFS_FILE = "rootfs.ext4";

/**
 * Builds `name` from Debian's archive into the cache and returns the installed entry. Everything
 * happens in a private staging folder that is renamed into place only once complete and verified,
 * under a per-environment lock; a second caller waits for the first and then returns its result.
 */
export async function buildEnvironment(
  name: string,
  options: BuildOptions = {},
): Promise<InstalledEnvironment> {
  const spec = getEnvironmentSpec(name);
  const version = packageVersion();
  const paths = environmentPaths(spec.name, version);
  if (!options.force) {
    const existing = await checkEntry(paths.entryDir, spec.name, version);
    if (existing.status === "valid") return installedEnvironment(paths.entryDir, existing.manifest);
  }
  requireRoot();
  const tools = requireBuildTools();

  await mkdir(paths.environmentRoot, { recursive: true });
  const lock = await acquireLock(paths.lockPath, {
    timeoutMs: options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
    onWait: (holder) =>
      options.onPhase?.("wait-lock", { environment: spec.name, pid: holder?.pid ?? "unknown" }),
  });
  try {
    // Whoever held the lock may just have installed it.
    const existing = await checkEntry(paths.entryDir, spec.name, version);
    if (existing.status === "valid" && !options.force)
      return installedEnvironment(paths.entryDir, existing.manifest);
    for (const leftover of await findBuildLeftovers(paths.environmentRoot)) await removeTree(leftover.path);
    return await buildLocked(spec, version, paths, tools, options);
  } finally {
    await lock.release();
  }
}

async function buildLocked(
  spec: EnvironmentSpec,
  version: string,
  paths: EnvironmentPaths,
  tools: BuildToolPaths,
  options: BuildOptions,
): Promise<InstalledEnvironment> {
  const startedAt = Date.now();
  const staging = await mkdtemp(
    join(paths.environmentRoot, `${STAGING_PREFIX}${fileSystemSafeName(version)}-${process.pid}-`),
  );
  // mkdtemp makes it 0700; the entry must be readable by VMMs running as another user, and apt's
  // _apt sandbox user must reach the chroot inside it.
  await chmod(staging, 0o755);
  const logPath = join(staging, BUILD_LOG_FILE);
  const log = createWriteStream(logPath);
  let phase = "rootfs";
  const enter = (next: string, detail: PhaseDetail = {}): void => {
    phase = next;
    log.write(`pyro: phase=${next} ${new Date().toISOString()}\n`);
    options.onPhase?.(next, { environment: spec.name, ...detail });
  };

  try {
    enter("rootfs", { suite: spec.suite, packages: spec.packages.join(",") || "(minbase only)" });
    const rootDir = join(staging, "root");
    const kernelDebPath = join(staging, "kernel.deb");
    let progressCount = 0;
    let kernelPackage = "";
    await bootstrapRootfs({
      spec,
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
        options.onProgress?.({ phase: "rootfs", count: progressCount, message: line });
      },
    });

    enter("kernel", { package: kernelPackage || basename(kernelDebPath) });
    const kernel = await unpackKernelPackage(
      tools["dpkg-deb"],
      kernelDebPath,
      join(staging, "kernel-package"),
      log,
    );
    await extractVmlinux(tools.lz4, kernel.vmlinuzPath, join(staging, KERNEL_FILE), log);

    enter("initramfs", { kernel_release: kernel.release });
    const modules = await resolveModuleLoadOrder(tools, kernel.packageRoot, kernel.release, log);
    await writeInitramfs(modules, join(staging, INITRAMFS_FILE));
    await rm(kernel.packageRoot, { recursive: true, force: true });
    await rm(kernelDebPath, { force: true });

    enter("image", { size_mib: spec.rootfsSizeMiB });
    await makeRootImage(tools["mkfs.ext4"], rootDir, join(staging, ROOTFS_FILE), spec.rootfsSizeMiB, log);
    await removeTree(rootDir);
    await rm(join(staging, "fetch-kernel.sh"), { force: true });

    enter("manifest");
    const manifest: EnvironmentManifest = {
      schema: 1,
      name: spec.name,
      version,
      distribution: spec.distribution,
      suite: spec.suite,
      description: spec.description,
      packages: [...spec.packages],
      kernel_release: kernel.release,
      built_at: new Date().toISOString(),
      source: "local-build",
      files: {
        kernel: await fileRecord(staging, KERNEL_FILE),
        initramfs: await fileRecord(staging, INITRAMFS_FILE),
        rootfs: await fileRecord(staging, ROOTFS_FILE),
      },
    };
    await writeManifest(staging, manifest);

    // Re-reads what was written, through the same check every later resolve uses; also writes the stamp.
    enter("verify");
    const check = await checkEntry(staging, spec.name, version);
    if (check.status !== "valid")
      throw new Error(
        `the fresh build does not verify: ${check.status === "corrupt" ? check.problem : "missing"}`,
      );
    await closeLog(log);
    await installStaging(staging, paths);
    enter("installed", { dir: paths.entryDir, duration_ms: Date.now() - startedAt });
    return installedEnvironment(paths.entryDir, check.manifest);
  } catch (error) {
    await closeLog(log);
    await rename(logPath, paths.failedBuildLogPath).catch(() => undefined);
    await removeTree(staging).catch(() => undefined);
    throw buildFailure(spec.name, phase, error, paths.failedBuildLogPath);
  }
}

async function fileRecord(dir: string, file: string): Promise<ManifestFileRecord> {
  const path = join(dir, file);
  return { path: file, sha256: await sha256File(path), size: (await stat(path)).size };
}

/**
 * Swaps the staging folder in with directory renames, so readers see the old entry, briefly none,
 * then the new one, never a mix. No fsync: a crash can only leave an entry that fails verification
 * and gets rebuilt.
 */
async function installStaging(staging: string, paths: EnvironmentPaths): Promise<void> {
  const aside = join(
    paths.environmentRoot,
    `${ASIDE_PREFIX}${process.pid}-${randomBytes(4).toString("hex")}`,
  );
  const replaced = await rename(paths.entryDir, aside).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return false;
      throw error;
    },
  );
  try {
    await rename(staging, paths.entryDir);
  } catch (error) {
    if (replaced) await rename(aside, paths.entryDir).catch(() => undefined);
    throw error;
  }
  if (replaced) await removeTree(aside);
}

function closeLog(log: WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (log.closed) resolve();
    else log.end(() => resolve());
  });
}

function buildFailure(name: string, phase: string, error: unknown, logPath: string): PyroError {
  if (error instanceof PyroError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  const tail = error instanceof ToolFailure && error.tail.length > 0 ? `\n${error.tail.join("\n")}` : "";
  return new PyroError(
    "ENVIRONMENT_BUILD_FAILED",
    `Building ${name} failed in phase ${phase}: ${reason}. Build log: ${logPath}${tail}`,
    {
      cause: error,
      details: { environment: name, phase, log: logPath },
    },
  );
}
