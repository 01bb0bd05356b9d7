import { mkdir, rm } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { PyroError } from "../errors/index.js";
import { CapBudget, EXPORT_BYTES } from "./caps.js";
import { parseEntryName, relativeToExport } from "./entry-names.js";
import { HostSpaceGuard } from "./host-space.js";
import { currentTarLimits, type TarLimits } from "./limits.js";
import { writeNewFile } from "./new-file.js";
import { checkOutputPath, placeOutput, stagingPathFor } from "./output-placement.js";
import { StagingTree } from "./staging-tree.js";
import { readTarEntries, type TarEntry } from "./tar-entries.js";
import type { SkippedEntry } from "./walk-tree.js";

export type ArtifactType = "file" | "directory";

export interface ExtractOptions {
  /** The exported path relative to /workspace (`.` for all of it), the archive's root as `tar -c ROOT` names it. */
  root: string;
  /** What the caller found at `root`; a stream saying otherwise is refused. */
  expect: ArtifactType;
  /** Replace an existing output (atomically); without it an existing output is OUTPUT_EXISTS. */
  overwrite?: boolean;
  limits?: TarLimits;
  /** Runs on the finished staging copy before it is placed at the output (e.g. git-metadata.ts). */
  beforePlace?: (staged: string, artifactType: ArtifactType) => Promise<void>;
}

export interface ExtractResult {
  artifact_type: ArtifactType;
  /** Entries written, the exported file or directory itself included. */
  entry_count: number;
  /** Bytes of regular files written. */
  bytes_written: number;
  /** Entries not written, with the reason: hard links, devices, FIFOs, unsafe names or links. */
  skipped: SkippedEntry[];
}

/**
 * Unpacks a tar stream of the guest's files (named as `tar -c -- ROOT` would, hostile by assumption) so that ROOT
 * becomes `outputPath` on the host. Everything is built in a fresh staging file or directory next
 * to `outputPath` and renamed into place only when complete; on any failure the staging copy is
 * removed and `outputPath` is left as it was. Nothing is ever written outside the staging copy:
 * unsafe names are skipped, files are created exclusively without following symlinks, and symlinks
 * (only relative ones that stay inside the exported tree) are created after everything else.
 */
export async function extractGuestTar(
  source: AsyncIterable<Buffer>,
  outputPath: string,
  options: ExtractOptions,
): Promise<ExtractResult> {
  const output = resolve(outputPath);
  const limits = options.limits ?? currentTarLimits();
  const overwrite = options.overwrite ?? false;
  const root = exportedRoot(options.root, limits);
  await checkOutputPath(output, overwrite);
  const space = new HostSpaceGuard(dirname(output), "the export");
  await space.start();
  const staged = stagingPathFor(output, "export");
  const sink: FileSink = { budget: new CapBudget(EXPORT_BYTES), space };
  try {
    const result =
      options.expect === "file"
        ? await extractFile(readTarEntries(source, limits), staged, root, limits, sink)
        : await extractDirectory(readTarEntries(source, limits), staged, root, limits, sink);
    await options.beforePlace?.(staged, result.artifact_type);
    await placeOutput(staged, output, overwrite);
    return result;
  } catch (error) {
    await rm(staged, { recursive: true, force: true });
    throw space.translate(error);
  }
}

/** What every file written is counted against: the export's byte cap and the host's free space. */
interface FileSink {
  budget: CapBudget;
  space: HostSpaceGuard;
}

/** Refuses a file before any of it is written when its declared size breaks the cap or the disk. */
async function admitFile(sink: FileSink, entry: TarEntry): Promise<void> {
  sink.budget.take(entry.size, `${JSON.stringify(entry.name)} brings it past the limit`);
  await sink.space.willWrite(entry.size);
}

async function extractFile(
  entries: AsyncIterable<TarEntry>,
  staged: string,
  root: string,
  limits: TarLimits,
  sink: FileSink,
): Promise<ExtractResult> {
  const result: ExtractResult = { artifact_type: "file", entry_count: 0, bytes_written: 0, skipped: [] };
  for await (const entry of entries) {
    const path = exportRelativePath(entry, root, limits, result.skipped);
    if (path === undefined) continue;
    if (path !== "" || result.entry_count > 0) {
      result.skipped.push({ path: entry.name, reason: "a file export holds one entry" });
      continue;
    }
    if (entry.kind !== "file") throw notExpected(root, entry, "file");
    await admitFile(sink, entry);
    result.bytes_written = await writeNewFile(staged, entry.body, entry.mode);
    result.entry_count = 1;
  }
  if (result.entry_count === 0) throw nothingExported(root);
  return result;
}

async function extractDirectory(
  entries: AsyncIterable<TarEntry>,
  staged: string,
  root: string,
  limits: TarLimits,
  sink: FileSink,
): Promise<ExtractResult> {
  const result: ExtractResult = { artifact_type: "directory", entry_count: 0, bytes_written: 0, skipped: [] };
  await mkdir(staged, 0o700);
  const tree = new StagingTree(staged, limits.maxEntries);
  let sawRoot = false;
  for await (const entry of entries) {
    const path = exportRelativePath(entry, root, limits, result.skipped);
    if (path === undefined) continue;
    const skip = (reason: string): void => void result.skipped.push({ path: entry.name, reason });
    if (path === "") {
      if (entry.kind !== "directory") throw notExpected(root, entry, "directory");
      tree.setRootMode(entry.mode);
      if (!sawRoot) result.entry_count += 1;
      sawRoot = true;
      continue;
    }
    let problem: string | undefined;
    switch (entry.kind) {
      case "directory":
        problem = await tree.addDirectory(path, entry.mode);
        break;
      case "file": {
        await admitFile(sink, entry);
        const written = await tree.addFile(path, entry.mode, entry.body);
        problem = written.skipped;
        result.bytes_written += written.bytes;
        break;
      }
      case "symlink":
        // Checked, created and counted by finish(), after every file.
        tree.deferSymlink(path, entry.linkTarget ?? "", entry.name);
        continue;
      case "hardlink":
        problem = "hard links are not exported";
        break;
      default:
        problem = `${entry.tarType} entries are not exported`;
    }
    if (problem === undefined) result.entry_count += 1;
    else skip(problem);
  }
  if (!sawRoot) throw nothingExported(root);
  const finished = await tree.finish();
  result.entry_count += finished.symlinks_created;
  result.skipped.push(...finished.skipped);
  return result;
}

/** The entry's path below the exported root (`""` for the root), or undefined after recording a skip. */
function exportRelativePath(
  entry: TarEntry,
  root: string,
  limits: TarLimits,
  skipped: SkippedEntry[],
): string | undefined {
  const parsed = parseEntryName(entry.name, limits.maxNameBytes);
  if (!parsed.ok) {
    skipped.push({ path: entry.name, reason: parsed.reason });
    return undefined;
  }
  const path = relativeToExport(parsed.path, root);
  if (path === undefined) skipped.push({ path: entry.name, reason: "outside the exported path" });
  return path;
}

function exportedRoot(root: string, limits: TarLimits): string {
  const parsed = parseEntryName(root, limits.maxNameBytes);
  if (!parsed.ok)
    throw new PyroError("INVALID_ARGUMENT", `Cannot export ${JSON.stringify(root)}: ${parsed.reason}.`);
  return parsed.path;
}

function notExpected(root: string, entry: TarEntry, expected: ArtifactType): PyroError {
  const actual = entry.kind === "symlink" ? "a symbolic link" : `a ${entry.kind}`;
  return new PyroError("INVALID_ARGUMENT", `${displayRoot(root)} is ${actual}, not a ${expected}.`, {
    hint: entry.kind === "symlink" ? "Export the file or directory the link points to." : undefined,
  });
}

function nothingExported(root: string): PyroError {
  return new PyroError("FILE_NOT_FOUND", `The workspace sent nothing for ${displayRoot(root)}.`);
}

function displayRoot(root: string): string {
  return root === "" ? "the workspace root" : JSON.stringify(root);
}
