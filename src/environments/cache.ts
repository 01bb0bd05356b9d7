import { join } from "node:path";
import { PyroError } from "../errors/index.js";
import { packageVersion } from "../platform/package-info.js";
import type { BuildOptions } from "./build.js";
import {
  DEFAULT_ENVIRONMENT,
  ENVIRONMENT_CATALOG,
  environmentNames,
  findEnvironmentSpec,
} from "./catalog.js";
import { installedEnvironment, type InstalledEnvironment } from "./installed.js";
import { readdirSync } from "node:fs";
import {
  checkEnvironmentName,
  CURRENT_ENTRY,
  environmentCacheDir,
  environmentPaths,
  MANIFEST_FILE,
} from "./paths.js";
import { MANIFEST_FILE_ROLES, readManifest, type EnvironmentManifest } from "./manifest.js";
import type { ImageConfig, Provenance } from "./manifest-schema.js";
import { checkEntry } from "./verify.js";

export type EnvironmentStatus =
  | { status: "installed"; environment: InstalledEnvironment }
  | { status: "not-installed" }
  | { status: "corrupt"; dir: string; problem: string };

/**
 * The state of `name`'s entry (for a catalog name, this package version's); a corrupt entry is
 * reported, never returned. A name outside the catalog that is not installed is unknown.
 */
export async function checkEnvironment(name: string): Promise<EnvironmentStatus> {
  const { entryDir } = environmentPaths(knownName(name));
  const check = await checkEntry(entryDir, name);
  if (check.status === "valid")
    return { status: "installed", environment: installedEnvironment(entryDir, check.manifest) };
  if (check.status === "missing") {
    if (findEnvironmentSpec(name)) return { status: "not-installed" };
    throw unknownEnvironment(name);
  }
  return { status: "corrupt", dir: entryDir, problem: check.problem };
}

/** `name` when it is in the catalog or has an entry in the cache; ENVIRONMENT_UNKNOWN otherwise. */
export function knownName(name: string): string {
  if (findEnvironmentSpec(name)) return name;
  checkEnvironmentName(name);
  if (installedNames().includes(name)) return name;
  throw unknownEnvironment(name);
}

function unknownEnvironment(name: string): PyroError {
  const valid = [...environmentNames(), ...installedNames()];
  return new PyroError("ENVIRONMENT_UNKNOWN", `Unknown environment "${name}".`, {
    hint: `Valid environments: ${valid.join(", ")}. Import an image with \`pyro env import IMAGE --name ${name}\`, or pull one by reference with \`pyro env pull REGISTRY/REPO:TAG\`.`,
    details: { environment: name, valid },
  });
}

/** Environments outside the catalog that have an entry in the cache (imports, pulls by reference). */
export function installedNames(): string[] {
  const cacheDir = environmentCacheDir();
  let folders: string[];
  try {
    folders = readdirSync(cacheDir);
  } catch {
    return [];
  }
  const names: string[] = [];
  for (const folder of folders.sort()) {
    try {
      const { name } = readManifest(`${cacheDir}/${folder}/${CURRENT_ENTRY}`);
      if (!findEnvironmentSpec(name)) names.push(name);
    } catch {
      // Not an entry (the blob store, bookkeeping) or a damaged one: `env prune` deals with those.
    }
  }
  return names;
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
  if (!findEnvironmentSpec(name)) {
    throw new PyroError(
      "ENVIRONMENT_CORRUPT",
      `Environment ${name} is damaged: ${state.status === "corrupt" ? state.problem : "missing"}.`,
      {
        hint: `Import or pull it again (\`pyro env import IMAGE --name ${name} --force\`).`,
        details: { environment: name },
      },
    );
  }
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

/** Every catalog environment with its installed state (verified, so a damaged entry is not "installed"), then the installed others. */
export async function listEnvironments(): Promise<EnvironmentListItem[]> {
  const catalog = ENVIRONMENT_CATALOG.map(async (spec) => {
    const { status } = await checkEnvironment(spec.name);
    return {
      name: spec.name,
      description: spec.description,
      version: packageVersion(),
      default: spec.name === DEFAULT_ENVIRONMENT,
      installed: status === "installed",
      status,
    };
  });
  const others = installedNames().map(async (name) => {
    const state = await checkEnvironment(name);
    const manifest = state.status === "installed" ? state.environment.manifest : null;
    return {
      name,
      description: manifest?.description ?? "",
      version: manifest?.version ?? "",
      default: false,
      installed: state.status === "installed",
      status: state.status,
    };
  });
  return Promise.all([...catalog, ...others]);
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
  source: EnvironmentManifest["source"] | null;
  /** Where the entry came from, in words: built here, pulled from REF@digest, imported from REF@digest. */
  origin: string | null;
  provenance: Provenance | null;
  /** Every artifact with its digest (manifest.json's records). */
  artifacts: Array<{ role: string; path: string; sha256: string; size: number }>;
  /** What an imported image asks of commands: Env, WorkingDir, User, Entrypoint, Cmd. */
  image: ImageConfig | null;
  built_at: string | null;
}

export async function inspectEnvironment(name: string): Promise<EnvironmentDetails> {
  const state = await checkEnvironment(name);
  const paths = environmentPaths(name);
  const installed = state.status === "installed" ? state.environment : null;
  const spec = findEnvironmentSpec(name);
  const manifest = installed?.manifest;
  return {
    name,
    version: spec ? packageVersion() : (manifest?.version ?? ""),
    distribution: spec?.distribution ?? manifest?.distribution ?? "",
    suite: spec?.suite ?? manifest?.suite ?? "",
    description: spec?.description ?? manifest?.description ?? "",
    default: name === DEFAULT_ENVIRONMENT,
    default_packages: [...(spec?.packages ?? manifest?.packages ?? [])],
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
    origin: manifest ? originOf(manifest) : null,
    provenance: manifest?.provenance ?? null,
    artifacts: manifest ? MANIFEST_FILE_ROLES.map((role) => ({ role, ...manifest.files[role] })) : [],
    image: manifest?.image ?? null,
  };
}

/** Where an entry came from, in words (env inspect's `source`, env verify's `origin`). */
export function originOf(manifest: EnvironmentManifest): string {
  const provenance = manifest.provenance;
  if (provenance?.kind === "pulled")
    return `pulled from ${provenance.reference}@${provenance.manifest_digest}`;
  if (provenance?.kind === "imported") {
    return `imported from ${provenance.reference}@${provenance.manifest_digest} (kernel from ${provenance.kernel_from})`;
  }
  return manifest.source === "local-build" ? "built locally" : manifest.source;
}
