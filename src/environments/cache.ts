import { join } from "node:path";
import { PyroError } from "../errors/index.js";
import { packageVersion } from "../platform/package-info.js";
import type { BuildOptions } from "./build.js";
import { DEFAULT_ENVIRONMENT, ENVIRONMENT_CATALOG, getEnvironmentSpec } from "./catalog.js";
import { installedEnvironment, type InstalledEnvironment } from "./installed.js";
import { environmentPaths, MANIFEST_FILE } from "./paths.js";
import { checkEntry } from "./verify.js";

export type EnvironmentStatus =
  | { status: "installed"; environment: InstalledEnvironment }
  | { status: "not-installed" }
  | { status: "corrupt"; dir: string; problem: string };

/** The state of `name`'s entry for this package version; a corrupt entry is reported, never returned. */
export async function checkEnvironment(name: string): Promise<EnvironmentStatus> {
  const spec = getEnvironmentSpec(name);
  const { entryDir } = environmentPaths(spec.name);
  const check = await checkEntry(entryDir, spec.name, packageVersion());
  if (check.status === "valid")
    return { status: "installed", environment: installedEnvironment(entryDir, check.manifest) };
  if (check.status === "missing") return { status: "not-installed" };
  return { status: "corrupt", dir: entryDir, problem: check.problem };
}

/** The verified installed entry, or null when it is missing or fails verification. */
export async function resolveInstalled(name: string): Promise<InstalledEnvironment | null> {
  const state = await checkEnvironment(name);
  return state.status === "installed" ? state.environment : null;
}

/**
 * The installed entry, building it first if it is missing or corrupt (a corrupt entry is reported
 * as phase=rebuild and replaced). Without root a build is impossible, so that case says how to
 * install the environment instead.
 */
export async function ensureEnvironment(
  name: string,
  options: BuildOptions = {},
): Promise<InstalledEnvironment> {
  const state = await checkEnvironment(name);
  if (state.status === "installed") return state.environment;
  if (process.getuid?.() !== 0) {
    throw state.status === "corrupt"
      ? new PyroError(
          "ENVIRONMENT_CORRUPT",
          `Environment ${name} in ${state.dir} is damaged: ${state.problem}.`,
          {
            hint: `Rebuild it with \`sudo pyro env build ${name} --force\`, or run \`pyro env pull ${name}\`.`,
            details: { environment: name, dir: state.dir, problem: state.problem },
          },
        )
      : new PyroError("ENVIRONMENT_NOT_INSTALLED", `Environment ${name} is not installed.`, {
          hint: `Build it with \`sudo pyro env build ${name}\`, or run \`pyro env pull ${name}\`.`,
          details: { environment: name },
        });
  }
  if (state.status === "corrupt") options.onPhase?.("rebuild", { environment: name, reason: state.problem });
  // Loaded only to build: listing and checking environments never load the build code.
  const { buildEnvironment } = await import("./build.js");
  return buildEnvironment(name, { ...options, force: false });
}

export interface EnvironmentListItem {
  name: string;
  description: string;
  version: string;
  default: boolean;
  installed: boolean;
  status: EnvironmentStatus["status"];
}

/** Every catalog environment with its installed state (verified, so a damaged entry is not "installed"). */
export async function listEnvironments(): Promise<EnvironmentListItem[]> {
  return Promise.all(
    ENVIRONMENT_CATALOG.map(async (spec) => {
      const { status } = await checkEnvironment(spec.name);
      return {
        name: spec.name,
        description: spec.description,
        version: packageVersion(),
        default: spec.name === DEFAULT_ENVIRONMENT,
        installed: status === "installed",
        status,
      };
    }),
  );
}

/** What `pyro env inspect NAME` shows. File paths (manifest included) are null unless the entry is installed. */
export interface EnvironmentDetails {
  name: string;
  version: string;
  distribution: string;
  suite: string;
  description: string;
  default: boolean;
  default_packages: string[];
  installed: boolean;
  status: EnvironmentStatus["status"];
  problem: string | null;
  cache_dir: string;
  install_dir: string;
  manifest: string | null;
  kernel_image: string | null;
  initramfs: string | null;
  rootfs_image: string | null;
  kernel_release: string | null;
  source: "local-build" | "oci" | null;
  built_at: string | null;
}

export async function inspectEnvironment(name: string): Promise<EnvironmentDetails> {
  const spec = getEnvironmentSpec(name);
  const paths = environmentPaths(spec.name);
  const state = await checkEnvironment(spec.name);
  const installed = state.status === "installed" ? state.environment : null;
  return {
    name: spec.name,
    version: packageVersion(),
    distribution: spec.distribution,
    suite: spec.suite,
    description: spec.description,
    default: spec.name === DEFAULT_ENVIRONMENT,
    default_packages: [...spec.packages],
    installed: installed !== null,
    status: state.status,
    problem: state.status === "corrupt" ? state.problem : null,
    cache_dir: paths.cacheDir,
    install_dir: paths.entryDir,
    manifest: installed ? join(installed.dir, MANIFEST_FILE) : null,
    kernel_image: installed?.kernelPath ?? null,
    initramfs: installed?.initramfsPath ?? null,
    rootfs_image: installed?.rootfsPath ?? null,
    kernel_release: installed?.kernelRelease ?? null,
    source: installed?.manifest.source ?? null,
    built_at: installed?.manifest.built_at ?? null,
  };
}
