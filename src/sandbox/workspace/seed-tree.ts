import { chmodSync, createReadStream, lutimesSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { join, posix } from "node:path";
import { parseEntryName } from "../../archive/index.js";
import { StagingTree } from "../../archive/staging-tree.js";
import { currentTarLimits } from "../../archive/limits.js";
import { readTarEntries } from "../../archive/tar-entries.js";
import { PyroError } from "../../errors/index.js";

/** What a staged entry keeps of its archive entry once the tree is complete. */
interface Kept {
  path: string;
  mode: number | null;
  mtime: Date | undefined;
  depth: number;
}

/**
 * Unpacks a seed's (already validated) tar stream into the fresh folder `dir` on the host, the
 * tree a workspace image is made from, with the same meaning as unpacking it in the guest:
 * modes (without setuid, setgid and sticky bits) and modification times kept, hard links as
 * copies of their target, symlinks as they are, devices and fifos skipped. The writing is
 * StagingTree's: nothing is ever written through a symlink or outside `dir`.
 */
export async function stageSeed(archive: AsyncIterable<Buffer>, dir: string): Promise<void> {
  const limits = currentTarLimits();
  await mkdir(dir, { mode: 0o700 });
  const tree = new StagingTree(dir, limits.maxEntries);
  const kept: Kept[] = [];
  const problems: string[] = [];
  for await (const entry of readTarEntries(archive, limits)) {
    const parsed = parseEntryName(entry.name, limits.maxNameBytes);
    if (!parsed.ok || parsed.path === "") continue; // validated before; the root is the image's
    const depth = parsed.path.split("/").length;
    const keep = (mode: number | null): void =>
      void kept.push({ path: parsed.path, mode, mtime: entry.mtime, depth });
    let problem: string | undefined;
    switch (entry.kind) {
      case "directory":
        problem = await tree.addDirectory(parsed.path, entry.mode);
        if (problem === undefined) keep(entry.mode);
        break;
      case "file":
        problem = (await tree.addFile(parsed.path, entry.mode, entry.body)).skipped;
        if (problem === undefined) keep(entry.mode);
        break;
      case "hardlink": {
        const target = parseEntryName(entry.linkTarget ?? "", limits.maxNameBytes);
        if (!target.ok) break;
        // The target was written by an earlier entry (symlinks come only at the end): its copy.
        const source = createReadStream(join(dir, target.path));
        problem = await tree.addFile(parsed.path, 0o644, source).then(
          (written) => written.skipped,
          () => `its hard-link target ${JSON.stringify(entry.linkTarget)} is not a file`,
        );
        if (problem === undefined) keep(null);
        break;
      }
      case "symlink":
        tree.deferSymlink(parsed.path, entry.linkTarget ?? "", entry.name);
        keep(null);
        break;
      default:
        break;
    }
    if (problem !== undefined) problems.push(`${entry.name}: ${problem}`);
  }
  const finished = await tree.finish();
  problems.push(...finished.skipped.map((skip) => `${skip.path}: ${skip.reason}`));
  if (problems.length > 0) {
    await rm(dir, { recursive: true, force: true });
    throw new PyroError(
      "ARCHIVE_UNSAFE",
      `the seed could not be unpacked as it is: ${problems.slice(0, 3).join("; ")}`,
      {
        hint: "Check the seed for entries that clash (a file and a folder of one name) and try again.",
      },
    );
  }
  // Exact modes and times last, deepest first: a read-only folder never blocks work inside it.
  kept.sort((a, b) => b.depth - a.depth);
  for (const entry of kept) {
    const path = join(dir, ...posix.normalize(entry.path).split("/"));
    // Synchronous: two quick calls per entry, many thousands of entries.
    if (entry.mode !== null) chmodSync(path, entry.mode & 0o777);
    if (entry.mtime !== undefined) lutimesSync(path, entry.mtime, entry.mtime);
  }
}
