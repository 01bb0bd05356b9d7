import { readFileSync } from "node:fs";
import { join } from "node:path";
import { checkJson } from "../platform/json-check.js";
import type { EnvironmentManifest, ManifestFileRole } from "./manifest-schema.js";
import { ENVIRONMENT_MANIFEST_JSON_SCHEMA } from "./manifest.json-schema.js";
import { MANIFEST_FILE } from "./paths.js";
import { writeJsonAtomic } from "../platform/atomic-file.js";

export type { EnvironmentManifest, ManifestFileRecord, ManifestFileRole } from "./manifest-schema.js";

export const MANIFEST_FILE_ROLES: readonly ManifestFileRole[] = ["kernel", "initramfs", "rootfs"];

/** Reads and validates the entry's manifest; throws when it is missing, not JSON or not a valid manifest. */
export function readManifest(entryDir: string): EnvironmentManifest {
  return parseManifest(readFileSync(join(entryDir, MANIFEST_FILE), "utf8"));
}

/** Validates a manifest's JSON text; throws naming what is wrong. */
export function parseManifest(text: string): EnvironmentManifest {
  // Checked without zod (manifest.json-schema.ts is zod's rendering of the schema): env list reads it.
  const parsed = checkJson(ENVIRONMENT_MANIFEST_JSON_SCHEMA, JSON.parse(text));
  if (!parsed.ok) throw new Error(`invalid ${MANIFEST_FILE}: ${parsed.issues.join("; ")}`);
  return parsed.value;
}

export async function writeManifest(entryDir: string, manifest: EnvironmentManifest): Promise<void> {
  writeJsonAtomic(join(entryDir, MANIFEST_FILE), manifest, 0o644);
}
