import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { PyroError } from "../../errors/index.js";
import { DOCKER_HUB } from "./reference.js";

export interface Credentials {
  username: string;
  password: string;
}

const MAX_CONFIG_BYTES = 1024 * 1024;

const authEntry = z.object({
  auth: z.string().max(16_384).optional(),
  username: z.string().max(4096).optional(),
  password: z.string().max(16_384).optional(),
});
const dockerConfig = z.object({ auths: z.record(z.string(), authEntry).optional() });

/** The config file docker and skopeo read: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export function dockerConfigPath(env: NodeJS.ProcessEnv): string {
  const dir = env.DOCKER_CONFIG ? env.DOCKER_CONFIG : join(env.HOME || homedir(), ".docker");
  return join(dir, "config.json");
}

/** "https://index.docker.io/v1/", "http://host:5000/x" or "host:5000" → the registry host it names. */
function keyHost(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//i, "").split("/")[0] ?? "";
  return host === "index.docker.io" || host === "registry-1.docker.io" ? DOCKER_HUB : host.toLowerCase();
}

/**
 * Credentials for `registry` from the Docker config's `auths` (an `auth` base64 "user:password",
 * or `username` and `password`); null when the file or the entry is missing. Credential helpers
 * (`credsStore`, `credHelpers`) are not run.
 */
export function dockerConfigCredentials(registry: string, env: NodeJS.ProcessEnv): Credentials | null {
  const path = dockerConfigPath(env);
  let text: string;
  try {
    const bytes = readFileSync(path);
    if (bytes.length > MAX_CONFIG_BYTES) throw new Error("larger than 1 MiB");
    text = bytes.toString("utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw unreadable(path, error);
  }
  let config: z.infer<typeof dockerConfig>;
  try {
    config = dockerConfig.parse(JSON.parse(text));
  } catch (error) {
    throw unreadable(path, error);
  }
  const wanted = registry.toLowerCase();
  for (const [key, entry] of Object.entries(config.auths ?? {})) {
    if (keyHost(key) !== wanted) continue;
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    }
    if (entry.username && entry.password !== undefined)
      return { username: entry.username, password: entry.password };
  }
  return null;
}

function unreadable(path: string, error: unknown): PyroError {
  const why =
    error instanceof z.ZodError
      ? "its auths entries are not in the expected form"
      : String((error as Error).message ?? error);
  return new PyroError("REGISTRY_AUTH_FAILED", `Cannot use the Docker config file ${path}: ${why}.`, {
    hint: "Fix or remove the file (or point DOCKER_CONFIG elsewhere), or pass --username and --password-stdin.",
    cause: error,
  });
}
