import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { ASIDE_PREFIX, BLOBS_FOLDER, MANIFEST_FILE, STAGING_PREFIX } from "../../src/environments/paths.js";

/**
 * What an interrupted or failed install may leave in an environment cache: staging and aside
 * folders beside the entries, and files in blobs/.partial (downloads kept to be resumed).
 */
export function cacheLeftovers(cacheDir: string): { staging: string[]; partial: string[] } {
  const staging: string[] = [];
  for (const folder of list(cacheDir)) {
    if (folder === BLOBS_FOLDER) continue;
    for (const inner of list(join(cacheDir, folder))) {
      if (inner.startsWith(STAGING_PREFIX) || inner.startsWith(ASIDE_PREFIX))
        staging.push(`${folder}/${inner}`);
    }
  }
  return { staging, partial: list(join(cacheDir, BLOBS_FOLDER, ".partial")) };
}

/** Folders of the cache holding an installed entry (a manifest.json), as "<folder>/<entry>". */
export function installedEntries(cacheDir: string): string[] {
  return list(cacheDir)
    .filter((folder) => folder !== BLOBS_FOLDER)
    .flatMap((folder) =>
      list(join(cacheDir, folder))
        .filter((inner) => !inner.startsWith(".") && existsSync(join(cacheDir, folder, inner, MANIFEST_FILE)))
        .map((inner) => `${folder}/${inner}`),
    );
}

/** The blobs (hex digests) the cache's blob store holds. */
export function storedBlobs(cacheDir: string): string[] {
  return list(join(cacheDir, BLOBS_FOLDER, "sha256"));
}

/** Runs `fn` with environment variables set (undefined: unset), restoring them afterwards. */
export async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const previous = Object.fromEntries(Object.keys(vars).map((key) => [key, process.env[key]]));
  const apply = (values: Record<string, string | undefined>): void => {
    for (const [key, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
  apply(vars);
  try {
    return await fn();
  } finally {
    apply(previous);
  }
}

/** The blob digests requested with GET through a relay (from the requests it recorded). */
export function blobGets(requests: string[]): string[] {
  return requests.flatMap((request) =>
    [...request.matchAll(/^GET \/v2\/\S+\/blobs\/(sha256:[0-9a-f]{64}) HTTP/gm)].map(
      (match) => match[1] as string,
    ),
  );
}

function list(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}
