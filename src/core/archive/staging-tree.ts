import { chmod, mkdir, symlink } from "node:fs/promises";
import { join } from "node:path";
import { symlinkAncestor } from "./entry-names.js";
import { symlinkEscapes } from "./symlink-resolution.js";
import type { SkippedEntry } from "./walk-tree.js";
import { writeNewFile } from "./new-file.js";

/**
 * A directory tree being rebuilt from hostile entries inside a fresh staging directory that only
 * this object writes to. Every directory in it was created here, and symlinks are only created by
 * `finish`, after all files, so no file or directory is ever written through a symlink.
 * Each `add…` returns why it skipped the entry, or undefined when the entry was written.
 */
export class StagingTree {
  private readonly kinds = new Map<string, "file" | "directory">([["", "directory"]]);
  private readonly directoryModes = new Map<string, number>();
  private readonly symlinks = new Map<string, string>();
  private readonly symlinkNames = new Map<string, string>();

  constructor(private readonly root: string) {}

  setRootMode(mode: number): void {
    this.directoryModes.set("", mode);
  }

  async addDirectory(path: string, mode: number): Promise<string | undefined> {
    const problem =
      (await this.prepareParents(path)) ??
      (this.kinds.get(path) === "file" ? "a file has this name" : undefined);
    if (problem !== undefined) return problem;
    if (!this.kinds.has(path)) await this.makeDirectory(path);
    this.directoryModes.set(path, mode);
    return undefined;
  }

  async addFile(
    path: string,
    mode: number,
    body: AsyncIterable<Buffer>,
  ): Promise<{ skipped?: string; bytes: number }> {
    const problem =
      (await this.prepareParents(path)) ??
      (this.kinds.has(path) ? "an earlier entry has this name" : undefined);
    if (problem !== undefined) return { skipped: problem, bytes: 0 };
    this.kinds.set(path, "file");
    return { bytes: await writeNewFile(join(this.root, path), body, mode) };
  }

  /** Symlinks are only recorded here (`name` is the entry's name, for reports); `finish` creates them. */
  deferSymlink(path: string, target: string, name: string): void {
    this.symlinks.set(path, target);
    this.symlinkNames.set(path, name);
  }

  /**
   * Creates the symlinks that stay inside the tree, then applies directory modes (deepest first,
   * so a read-only directory never blocks work below it). Returns the symlinks it skipped and the
   * number it created.
   */
  async finish(): Promise<{ skipped: SkippedEntry[]; symlinks_created: number }> {
    const skipped: SkippedEntry[] = [];
    const candidates = new Map(this.symlinks);
    const skip = (path: string, reason: string): void => {
      skipped.push({ path: this.symlinkNames.get(path) ?? path, reason });
      candidates.delete(path);
    };
    for (const path of this.symlinks.keys()) {
      const ancestor = symlinkAncestor(path, this.symlinks);
      if (this.kinds.has(path)) skip(path, "a file or directory has this name");
      else if (ancestor !== undefined) skip(path, `it is below the symlink ${JSON.stringify(ancestor)}`);
    }
    // Decided against the full set at once: a link resolving through an escaping link escapes too.
    const escaping = [...candidates].filter(([path, target]) => symlinkEscapes(path, target, candidates));
    for (const [path, target] of escaping) {
      const where = target.startsWith("/") ? "is absolute" : "leaves the exported tree";
      skip(path, `its target ${JSON.stringify(target)} ${where}`);
    }
    for (const [path, target] of candidates) {
      const problem = await this.prepareParents(path);
      if (problem === undefined) await symlink(target, join(this.root, path));
      else skip(path, problem);
    }
    const deepestFirst = [...this.directoryModes].sort(([a], [b]) => depth(b) - depth(a));
    for (const [path, mode] of deepestFirst) await chmod(join(this.root, path), mode & 0o777);
    return { skipped, symlinks_created: candidates.size };
  }

  /** Creates missing parent directories; says why not when a parent is a file or a symlink. */
  private async prepareParents(path: string): Promise<string | undefined> {
    const linkAncestor = symlinkAncestor(path, this.symlinks);
    if (linkAncestor !== undefined) return `it is below the symlink ${JSON.stringify(linkAncestor)}`;
    for (let slash = path.indexOf("/"); slash !== -1; slash = path.indexOf("/", slash + 1)) {
      const parent = path.slice(0, slash);
      const kind = this.kinds.get(parent);
      if (kind === "file") return `its parent ${JSON.stringify(parent)} is a file`;
      if (kind === undefined) await this.makeDirectory(parent);
    }
    return undefined;
  }

  private async makeDirectory(path: string): Promise<void> {
    // Writable until finish() applies the mode of the directory's own entry, if it has one.
    await mkdir(join(this.root, path), 0o755);
    this.kinds.set(path, "directory");
  }
}

function depth(path: string): number {
  return path === "" ? -1 : path.split("/").length;
}
