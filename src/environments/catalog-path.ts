import { join, resolve } from "node:path";
import { packageRoot } from "../platform/package-info.js";

/** The catalog file: PYRO_ENVIRONMENT_CATALOG, else the one that ships with pyro. */
export function catalogFilePath(env: NodeJS.ProcessEnv = process.env): string {
  return env.PYRO_ENVIRONMENT_CATALOG
    ? resolve(env.PYRO_ENVIRONMENT_CATALOG)
    : join(packageRoot(), "catalog", "environments.json");
}
