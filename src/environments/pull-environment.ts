/**
 * `pyro env pull NAME|REF`: a catalog name is looked up in the catalog file and pulled from its
 * registry, falling back to a local build (said so on the phase line) when no registry is
 * configured, it cannot be reached, or it does not have the environment; any other argument is
 * an OCI reference to a pyro environment artifact, installed under the name it carries.
 */
import { PyroError } from "../errors/index.js";
import type { PhaseReporter } from "../platform/phases.js";
import { blobStore, describeRemote, installRemote, type RemoteEnvironment } from "./artifact/pull.js";
import type { BuildProgress } from "./build-steps.js";
import { checkEnvironment } from "./cache.js";
import { findEnvironmentSpec } from "./catalog.js";
import { loadCatalogSource, type CatalogSource } from "./catalog-file.js";
import type { InstalledEnvironment } from "./installed.js";
import { RegistryClient, type Credentials } from "./oci/client.js";
import type { TransferProgress } from "./oci/blob-store.js";
import { formatReference, parseReference, type ImageReference } from "./oci/reference.js";

export interface PullOptions {
  /** A catalog name or an OCI reference. */
  target: string;
  /** Fetch (or rebuild) even when the installed copy is current. */
  force?: boolean;
  insecure?: boolean;
  credentials?: Credentials | null;
  onPhase?: PhaseReporter;
  onProgress?(progress: TransferProgress): void;
  onBuildProgress?(progress: BuildProgress): void;
}

export interface PullOutcome {
  environment: InstalledEnvironment;
  /** registry: fetched now; cached: the installed copy is what the registry has; local-build: built here. */
  source: "registry" | "cached" | "local-build";
  reference: string | null;
  digest: string | null;
  /** Why it was built locally, when it was. */
  note: string | null;
}

export async function pullEnvironment(options: PullOptions): Promise<PullOutcome> {
  const onPhase = options.onPhase ?? (() => undefined);
  const spec = findEnvironmentSpec(options.target);
  if (!spec) return pullReference(parseReference(options.target), options.insecure ?? false, options, null);

  const catalog = loadCatalogSource();
  if (catalog.registry === null) {
    return buildInstead(
      options,
      `no registry is configured (${catalog.file}; set PYRO_ENVIRONMENT_REGISTRY to pull)`,
    );
  }
  const reference = catalogReference(catalog, spec.name);
  try {
    return await pullReference(
      reference,
      catalog.registry.insecure || (options.insecure ?? false),
      options,
      spec.name,
    );
  } catch (error) {
    if (
      error instanceof PyroError &&
      (error.code === "REGISTRY_UNREACHABLE" || error.code === "IMAGE_NOT_FOUND")
    ) {
      const why = error.code === "IMAGE_NOT_FOUND" ? "does not have it" : "cannot be reached";
      onPhase("resolve", {
        environment: spec.name,
        reference: formatReference(reference),
        error: error.code,
      });
      return buildInstead(options, `the registry ${catalog.registry.host} (${catalog.registryFrom}) ${why}`);
    }
    throw error;
  }
}

/** The reference a catalog name maps to, under the configured registry and namespace. */
export function catalogReference(catalog: CatalogSource, name: string): ImageReference {
  const entry = catalog.entries[name];
  const registry = catalog.registry;
  if (!entry || !registry) {
    throw new PyroError(
      "ENVIRONMENT_UNKNOWN",
      `The catalog ${catalog.file} has no registry entry for ${name}.`,
      {
        hint: "Add the environment to the catalog file, or pull it by reference.",
      },
    );
  }
  const repository = registry.namespace ? `${registry.namespace}/${entry.repository}` : entry.repository;
  return { registry: registry.host, repository, tag: entry.tag, digest: entry.digest };
}

async function pullReference(
  reference: ImageReference,
  insecure: boolean,
  options: PullOptions,
  expectedName: string | null,
): Promise<PullOutcome> {
  const onPhase = options.onPhase ?? (() => undefined);
  const printable = formatReference(reference);
  onPhase("resolve", { reference: printable });
  const client = new RegistryClient(reference.registry, {
    insecure,
    credentials: options.credentials ?? null,
  });
  const store = blobStore();
  const remote = await describeRemote(client, store, reference);
  const name = remote.manifest.name;
  if (expectedName !== null && name !== expectedName) {
    throw new PyroError("REGISTRY_ERROR", `${printable} holds ${name}, not ${expectedName}.`, {
      hint: "Fix the catalog file's entry, or push the right environment to that tag.",
    });
  }
  const current = await installedCopy(name, remote);
  if (current && !options.force) {
    onPhase("current", { environment: name, digest: remote.digest });
    return {
      environment: current,
      source: "cached",
      reference: remote.reference,
      digest: remote.digest,
      note: null,
    };
  }
  const environment = await installRemote(client, store, remote, {
    reference,
    onPhase,
    recheck: options.force ?? false,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  onPhase("installed", { environment: name, digest: remote.digest });
  return { environment, source: "registry", reference: remote.reference, digest: remote.digest, note: null };
}

/** The installed entry when it was pulled from exactly this artifact. */
async function installedCopy(name: string, remote: RemoteEnvironment): Promise<InstalledEnvironment | null> {
  const state = await checkEnvironment(name).catch(() => null);
  if (state?.status !== "installed") return null;
  const provenance = state.environment.manifest.provenance;
  return provenance?.kind === "pulled" && provenance.manifest_digest === remote.digest
    ? state.environment
    : null;
}

async function buildInstead(options: PullOptions, note: string): Promise<PullOutcome> {
  (options.onPhase ?? (() => undefined))("resolve", {
    environment: options.target,
    source: "local-build",
    note: `${note}; building locally`,
  });
  const { buildEnvironment } = await import("./build.js");
  const environment = await buildEnvironment(options.target, {
    force: options.force ?? false,
    ...(options.onPhase ? { onPhase: options.onPhase } : {}),
    ...(options.onBuildProgress ? { onProgress: options.onBuildProgress } : {}),
  });
  return { environment, source: "local-build", reference: null, digest: null, note };
}
