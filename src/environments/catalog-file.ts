/**
 * The catalog file maps catalog names to OCI references: it names the registry that publishes the
 * official environments and, per name, a repository, a tag and optionally a pinned digest. The
 * package ships catalog/environments.json; PYRO_ENVIRONMENT_CATALOG names another file (a team's),
 * and PYRO_ENVIRONMENT_REGISTRY overrides the registry of either. A registry written with an
 * `http://` prefix is reached over plain HTTP: that is how a user names an insecure registry.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { PyroError } from "../errors/index.js";
import { packageVersion } from "../platform/package-info.js";
import { catalogFilePath } from "./catalog-path.js";

const digest = z.string().regex(/^sha256:[0-9a-f]{64}$/);

const catalogFileSchema = z.object({
  schema: z.literal(1),
  /** "package" follows the package version. */
  version: z.string().min(1).max(64),
  registry: z.string().min(1).max(512).nullable(),
  environments: z.record(
    z.string().max(64),
    z.object({
      repository: z.string().regex(/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/),
      tag: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/),
      digest: digest.nullable(),
    }),
  ),
});

export interface RegistryLocation {
  /** host[:port], plus an optional namespace path that prefixes every repository. */
  host: string;
  namespace: string;
  insecure: boolean;
}

export interface CatalogSource {
  version: string;
  file: string;
  registry: RegistryLocation | null;
  /** Where the registry came from, for messages: the file or the environment variable. */
  registryFrom: string;
  entries: Record<string, { repository: string; tag: string; digest: string | null }>;
}

export function loadCatalogSource(env: NodeJS.ProcessEnv = process.env): CatalogSource {
  const file = catalogFilePath(env);
  let parsed: z.infer<typeof catalogFileSchema>;
  try {
    parsed = catalogFileSchema.parse(JSON.parse(readFileSync(file, "utf8")));
  } catch (error) {
    throw new PyroError(
      "INVALID_ARGUMENT",
      `The environment catalog ${file} cannot be used: ${describe(error)}.`,
      {
        hint: "Fix the file, or unset PYRO_ENVIRONMENT_CATALOG to use the catalog that ships with pyro.",
        details: { file },
      },
    );
  }
  const override = env.PYRO_ENVIRONMENT_REGISTRY;
  const registryText = override || parsed.registry;
  return {
    version: parsed.version === "package" ? packageVersion() : parsed.version,
    file,
    registry: registryText ? parseRegistryLocation(registryText) : null,
    registryFrom: override ? "PYRO_ENVIRONMENT_REGISTRY" : file,
    entries: parsed.environments,
  };
}

/** "http://127.0.0.1:5000/team" → host 127.0.0.1:5000, namespace team, insecure. */
export function parseRegistryLocation(text: string): RegistryLocation {
  const insecure = text.startsWith("http://");
  const rest = text.replace(/^https?:\/\//, "").replace(/\/+$/, "");
  const [host = "", ...path] = rest.split("/");
  if (!/^[A-Za-z0-9.-]+(:[0-9]{1,5})?$/.test(host) && !/^\[[0-9a-fA-F:]+\](:[0-9]{1,5})?$/.test(host)) {
    throw new PyroError("INVALID_ARGUMENT", `"${text}" is not a registry (host[:port][/namespace]).`, {
      hint: "Set PYRO_ENVIRONMENT_REGISTRY like registry.example.com/pyro, or http://127.0.0.1:5000 for a plain-HTTP registry you run.",
    });
  }
  return { host, namespace: path.join("/"), insecure };
}

function describe(error: unknown): string {
  if (error instanceof z.ZodError)
    return error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
  return error instanceof Error ? error.message : String(error);
}
