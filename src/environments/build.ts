import { createWriteStream, type WriteStream } from "node:fs";
import { chmod, mkdir, mkdtemp, rename } from "node:fs/promises";
import { join } from "node:path";
import { PyroError } from "../errors/index.js";
import { packageVersion } from "../platform/package-info.js";
import { archiveInputs, type ArchiveInputs } from "./build-inputs.js";
import { produceEntryFiles, type BuildProgress, type PhaseDetail } from "./build-steps.js";
import { getEnvironmentSpec, type EnvironmentSpec } from "./catalog.js";
import { installedEnvironment, type InstalledEnvironment } from "./installed.js";
import { findBuildLeftovers } from "./leftovers.js";
import { swapInEntry } from "./install-entry.js";
import { acquireLock } from "./lock.js";
import {
  BUILD_LOG_FILE,
  environmentPaths,
  fileSystemSafeName,
  STAGING_PREFIX,
  type EnvironmentPaths,
} from "./paths.js";
import { removeTree } from "./remove-tree.js";
import { ToolFailure } from "./run-tool.js";
import { requireBuildTools, requireRoot, type BuildToolPaths } from "./tools.js";
import { checkEntry } from "./verify.js";

export type { BuildProgress, PhaseDetail } from "./build-steps.js";

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
    const existing = await checkEntry(paths.entryDir, spec.name);
    if (existing.status === "valid") return installedEnvironment(paths.entryDir, existing.manifest);
  }
  requireRoot();
  const tools = requireBuildTools();
  const archive = archiveInputs();

  await mkdir(paths.environmentRoot, { recursive: true });
  const lock = await acquireLock(paths.lockPath, {
    timeoutMs: options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
    onWait: (holder) =>
      options.onPhase?.("wait-lock", { environment: spec.name, pid: holder?.pid ?? "unknown" }),
  });
  try {
    // Whoever held the lock may just have installed it.
    const existing = await checkEntry(paths.entryDir, spec.name);
    if (existing.status === "valid" && !options.force) {
      return installedEnvironment(paths.entryDir, existing.manifest);
    }
    for (const leftover of await findBuildLeftovers(paths.environmentRoot)) await removeTree(leftover.path);
    return await buildLocked(spec, version, archive, paths, tools, options);
  } finally {
    await lock.release();
  }
}

async function buildLocked(
  spec: EnvironmentSpec,
  version: string,
  archive: ArchiveInputs,
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
  let phase = "";
  const enterPhase = (next: string, detail: PhaseDetail = {}): void => {
    phase = next;
    log.write(`pyro: phase=${next} ${new Date().toISOString()}\n`);
    options.onPhase?.(next, { environment: spec.name, ...detail });
  };

  try {
    await produceEntryFiles({
      spec,
      version,
      archive,
      staging,
      tools,
      log,
      enterPhase,
      onProgress: options.onProgress,
    });
    // Re-reads what was written through the same check every later resolve uses; also writes the stamp.
    enterPhase("verify");
    const check = await checkEntry(staging, spec.name);
    if (check.status !== "valid") {
      const problem = check.status === "corrupt" ? check.problem : "entry missing";
      throw new Error(`the fresh build does not verify: ${problem}`);
    }
    await closeLog(log);
    await swapInEntry(staging, paths);
    options.onPhase?.("installed", {
      environment: spec.name,
      dir: paths.entryDir,
      duration_ms: Date.now() - startedAt,
    });
    return installedEnvironment(paths.entryDir, check.manifest);
  } catch (error) {
    throw await failBuild(spec.name, phase, error, log, staging, paths);
  }
}

/** Keeps the log where the error names it, drops the rest of the staging folder. */
async function failBuild(
  name: string,
  phase: string,
  error: unknown,
  log: WriteStream,
  staging: string,
  paths: EnvironmentPaths,
): Promise<PyroError> {
  await closeLog(log);
  await rename(join(staging, BUILD_LOG_FILE), paths.failedBuildLogPath).catch(() => undefined);
  await removeTree(staging).catch(() => undefined);
  if (error instanceof PyroError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  const tail = error instanceof ToolFailure && error.tail.length > 0 ? `\n${error.tail.join("\n")}` : "";
  return new PyroError(
    "ENVIRONMENT_BUILD_FAILED",
    `Building ${name} failed in phase ${phase}: ${reason}. Build log: ${paths.failedBuildLogPath}${tail}`,
    { cause: error, details: { environment: name, phase, log: paths.failedBuildLogPath } },
  );
}

function closeLog(log: WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (log.closed) resolve();
    else log.end(() => resolve());
  });
}
