import { readFileSync } from "node:fs";
import { packageVersion } from "../platform/package-info.js";
import { catalogFilePath } from "./catalog-path.js";

/**
 * The catalog's version and registry for `env list`, read without the full check (which loads
 * zod; listing must start fast). Pulling checks the whole file (catalog-file.ts).
 */
export function catalogSummary(env: NodeJS.ProcessEnv = process.env): {
  version: string;
  registry: string | null;
} {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(catalogFilePath(env), "utf8"));
  } catch {
    parsed = null;
  }
  const file = typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : {};
  const version =
    typeof file.version === "string" && file.version !== "package" ? file.version : packageVersion();
  const registry =
    env.PYRO_ENVIRONMENT_REGISTRY || (typeof file.registry === "string" ? file.registry : null);
  return { version, registry };
}
