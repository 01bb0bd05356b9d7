/**
 * Deciding whether an installed entry can be trusted.
 *
 * A full check hashes every file against the manifest; a root image is gigabytes, which would cost
 * seconds on every VM boot. So after each full check we keep a stamp (verified.json) with the size,
 * inode and mtime of every file, the manifest included. A later check whose stat results all
 * match the stamp trusts the earlier digests; any difference (rewrite, truncation, copy, touch) or
 * a missing stamp forces a full re-hash. ctime is left out on purpose: every VM holds a hard link
 * to the root image (so a rebuild never pulls the disk from under it), and linking changes ctime.
 * The trade-off: this catches accidental damage and partial copies, not a deliberate forger with
 * write access to the cache, who could rewrite the stamp as easily as the files.
 */
import { existsSync, lstatSync, readFileSync, type BigIntStats } from "node:fs";
import { join } from "node:path";
import { sha256File } from "../platform/file-digest.js";
import { writeJsonAtomic } from "../platform/atomic-file.js";
import { MANIFEST_FILE_ROLES, readManifest, type EnvironmentManifest } from "./manifest.js";
import { MANIFEST_FILE, STAMP_FILE } from "./paths.js";

export type EntryCheck =
  | { status: "valid"; manifest: EnvironmentManifest }
  | { status: "missing" }
  | { status: "corrupt"; problem: string };

interface FileIdentity {
  size: string;
  ino: string;
  mtimeNs: string;
}

type Stamp = Record<string, FileIdentity>;

/**
 * Digest failures already seen by this process, by entry and file identities: the same reasoning
 * as the stamp, applied to bad verdicts, so a rebuild does not re-hash a corrupt gigabyte image
 * at each of its checks (ensure, build, after the lock).
 */
const knownDigestFailures = new Map<string, string>();

/** Checks the entry in `entryDir` is complete, is `name`, and matches its digests. */
export async function checkEntry(entryDir: string, name: string): Promise<EntryCheck> {
  // Metadata is read synchronously: a few small reads and stats, cheaper than a round trip each
  // through the thread pool (every command that lists or boots an environment checks it first).
  if (!existsSync(entryDir)) return { status: "missing" };

  let manifest: EnvironmentManifest;
  try {
    manifest = readManifest(entryDir);
  } catch (error) {
    return { status: "corrupt", problem: `${MANIFEST_FILE}: ${describeManifestError(error)}` };
  }
  if (manifest.name !== name) {
    return { status: "corrupt", problem: `${MANIFEST_FILE} describes ${manifest.name}, expected ${name}` };
  }

  const identities: Stamp = {};
  for (const path of [MANIFEST_FILE, ...MANIFEST_FILE_ROLES.map((role) => manifest.files[role].path)]) {
    const stats = lstatOrNothing(join(entryDir, path));
    if (!stats?.isFile()) return { status: "corrupt", problem: `${path}: missing or not a regular file` };
    identities[path] = identityOf(stats);
  }
  for (const role of MANIFEST_FILE_ROLES) {
    const record = manifest.files[role];
    const size = Number(identities[record.path]?.size);
    if (size !== record.size) {
      return { status: "corrupt", problem: `${record.path}: ${size} bytes, manifest says ${record.size}` };
    }
  }

  if (stampMatches(entryDir, identities)) return { status: "valid", manifest };
  const failureKey = `${entryDir}\0${JSON.stringify(identities)}`;
  const knownProblem = knownDigestFailures.get(failureKey);
  if (knownProblem !== undefined) return { status: "corrupt", problem: knownProblem };

  for (const role of MANIFEST_FILE_ROLES) {
    const record = manifest.files[role];
    if ((await sha256File(join(entryDir, record.path))) !== record.sha256) {
      const problem = `${record.path}: sha256 does not match the manifest`;
      knownDigestFailures.set(failureKey, problem);
      return { status: "corrupt", problem };
    }
  }
  await writeStamp(entryDir, identities);
  return { status: "valid", manifest };
}

/**
 * Records that every file of the entry in `entryDir` was just checked against `manifest` by the
 * caller (an install that hashed each file as it wrote it), so the next check trusts them.
 */
export async function stampVerified(entryDir: string, manifest: EnvironmentManifest): Promise<void> {
  const identities: Stamp = {};
  for (const path of [MANIFEST_FILE, ...MANIFEST_FILE_ROLES.map((role) => manifest.files[role].path)]) {
    identities[path] = identityOf(lstatSync(join(entryDir, path), { bigint: true }));
  }
  await writeStamp(entryDir, identities);
}

function lstatOrNothing(path: string): BigIntStats | undefined {
  try {
    return lstatSync(path, { bigint: true });
  } catch {
    return undefined;
  }
}

function identityOf(stats: BigIntStats): FileIdentity {
  return {
    size: stats.size.toString(),
    ino: stats.ino.toString(),
    mtimeNs: stats.mtimeNs.toString(),
  };
}

function stampMatches(entryDir: string, identities: Stamp): boolean {
  let stamp: unknown;
  try {
    stamp = JSON.parse(readFileSync(join(entryDir, STAMP_FILE), "utf8"));
  } catch {
    return false;
  }
  // Comparing canonical JSON of both sides: the stamp is ours and written with the same key order.
  return JSON.stringify(stamp) === JSON.stringify(identities);
}

/** Best effort: a read-only cache still works, it just re-hashes on every check. */
async function writeStamp(entryDir: string, identities: Stamp): Promise<void> {
  try {
    writeJsonAtomic(join(entryDir, STAMP_FILE), identities, 0o644);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EACCES" && code !== "EPERM" && code !== "EROFS") throw error;
  }
}

function describeManifestError(error: unknown): string {
  if ((error as NodeJS.ErrnoException).code === "ENOENT") return "missing (partial entry)";
  return error instanceof Error ? error.message : String(error);
}
