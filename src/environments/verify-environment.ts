import { join } from "node:path";
import { PyroError } from "../errors/index.js";
import { sha256File } from "../platform/file-digest.js";
import { knownName, originOf } from "./cache.js";
import { MANIFEST_FILE_ROLES, readManifest, type EnvironmentManifest } from "./manifest.js";
import { environmentPaths } from "./paths.js";
import { stampVerified } from "./verify.js";

export interface VerifiedFile {
  role: string;
  path: string;
  sha256: string;
  size: number;
  ok: boolean;
}

export interface VerifyReport {
  environment: string;
  ok: boolean;
  files: VerifiedFile[];
  provenance: EnvironmentManifest["provenance"] | null;
  /** The provenance in words: built locally, pulled from REF@digest, imported from REF@digest. */
  origin: string;
}

/**
 * `pyro env verify NAME`: hashes every file of the installed entry again, whatever the stamp of
 * an earlier check says, and compares each with the manifest. A damaged entry is an error
 * (ENVIRONMENT_CORRUPT, listing each file); a sound one gets a fresh stamp.
 */
export async function verifyEnvironment(name: string): Promise<VerifyReport> {
  const { entryDir } = environmentPaths(knownName(name));
  let manifest: EnvironmentManifest;
  try {
    manifest = readManifest(entryDir);
  } catch (error) {
    throw new PyroError(
      "ENVIRONMENT_NOT_INSTALLED",
      `Environment ${name} is not installed (${describe(error)}).`,
      {
        hint: `Run \`pyro env pull ${name}\`.`,
        details: { environment: name },
      },
    );
  }
  const files: VerifiedFile[] = [];
  for (const role of MANIFEST_FILE_ROLES) {
    const record = manifest.files[role];
    const actual = await sha256File(join(entryDir, record.path)).catch(() => "missing");
    files.push({
      role,
      path: record.path,
      sha256: record.sha256,
      size: record.size,
      ok: actual === record.sha256,
    });
  }
  const report = {
    environment: name,
    ok: files.every((file) => file.ok),
    files,
    provenance: manifest.provenance ?? null,
    origin: originOf(manifest),
  };
  if (!report.ok) {
    const bad = files.filter((file) => !file.ok).map((file) => file.path);
    throw new PyroError(
      "ENVIRONMENT_CORRUPT",
      `Environment ${name} does not match its manifest: ${bad.join(", ")}.`,
      {
        hint: `Install it again: \`pyro env pull ${name} --force\` (or import or build it again).`,
        details: { ...report },
      },
    );
  }
  await stampVerified(entryDir, manifest);
  return report;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
