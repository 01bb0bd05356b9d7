import { chmod, mkdir, symlink } from "node:fs/promises";
import { join } from "node:path";
import { PyroError } from "../errors/index.js";
import { SymlinkSet } from "./symlink-resolution.js";
import type { SkippedEntry } from "./walk-tree.js";
import { exportedDirectoryMode } from "./export-modes.js";
import { writeNewFile } from "./new-file.js";

/** One path of the tree: what was written there, and what lies below it. */
interface TreeNode {
  kind: "file" | "directory" | "symlink";
  readonly children: Map<string, TreeNode>;
}

interface DeferredLink {
  readonly path: string;
  readonly target: string;
  readonly name: string;
}

/**
 * A directory tree being rebuilt from hostile entries inside a fresh staging directory that only
 * this object writes to. Every directory in it was created here, and symlinks are only created by
 * `finish`, after all files, so no file or directory is ever written through a symlink.
 * Each `add…` returns why it skipped the entry, or undefined when the entry was written.
 *
 * Paths are kept as a tree of components, so each entry costs work linear in its name; every
 * directory created (implied parents included) counts against `maxEntries`.
 */
export class StagingTree {
  private readonly top: TreeNode = { kind: "directory", children: new Map() };
  private readonly directoryModes: Array<{ path: string; depth: number; mode: number }> = [];
  private readonly links: DeferredLink[] = [];
  private readonly deferred = new SymlinkSet();
  private created = 0;

  constructor(
    private readonly root: string,
    private readonly maxEntries: number,
  ) {}

  setRootMode(mode: number): void {
    this.directoryModes.push({ path: "", depth: 0, mode });
  }

  async addDirectory(path: string, mode: number): Promise<string | undefined> {
    const placed = await this.place(path);
    if (typeof placed === "string") return placed;
    const existing = placed.parent.children.get(placed.name);
    if (existing !== undefined && existing.kind !== "directory") return "a file has this name";
    if (existing === undefined) await this.makeDirectory(placed.parent, placed.name, path);
    this.directoryModes.push({ path, depth: placed.depth, mode });
    return undefined;
  }

  async addFile(
    path: string,
    mode: number,
    body: AsyncIterable<Buffer>,
  ): Promise<{ skipped?: string; bytes: number }> {
    const placed = await this.place(path);
    if (typeof placed === "string") return { skipped: placed, bytes: 0 };
    if (placed.parent.children.has(placed.name))
      return { skipped: "an earlier entry has this name", bytes: 0 };
    placed.parent.children.set(placed.name, { kind: "file", children: new Map() });
    this.count();
    return { bytes: await writeNewFile(join(this.root, path), body, mode) };
  }

  /** Symlinks are only recorded here (`name` is the entry's name, for reports); `finish` creates them. */
  deferSymlink(path: string, target: string, name: string): void {
    this.links.push({ path, target, name });
    this.deferred.add(path, target);
  }

  /**
   * Creates the symlinks that stay inside the tree, then applies directory modes (deepest first,
   * so a read-only directory never blocks work below it). Returns the symlinks it skipped and the
   * number it created.
   */
  async finish(): Promise<{ skipped: SkippedEntry[]; symlinks_created: number }> {
    const skipped: SkippedEntry[] = [];
    // The first link of a name wins, as in the file system; later ones are skipped.
    const candidates: DeferredLink[] = [];
    const seen = new Set<string>();
    for (const link of this.links) {
      const above = this.deferred.linkAbove(link.path);
      if (above !== undefined)
        skipped.push({ path: link.name, reason: `it is below the symlink ${JSON.stringify(above)}` });
      else if (this.lookup(link.path) !== undefined || seen.has(link.path))
        skipped.push({ path: link.name, reason: "a file or directory has this name" });
      else {
        seen.add(link.path);
        candidates.push(link);
      }
    }
    // Decided against the candidates at once: a link resolving through an escaping link escapes too.
    const kept = new SymlinkSet();
    for (const link of candidates) kept.add(link.path, link.target);
    let created = 0;
    for (const link of candidates) {
      if (kept.escapes(link.path)) {
        const where = link.target.startsWith("/") ? "is absolute" : "leaves the exported tree";
        skipped.push({ path: link.name, reason: `its target ${JSON.stringify(link.target)} ${where}` });
        continue;
      }
      const placed = await this.place(link.path);
      if (typeof placed === "string") {
        skipped.push({ path: link.name, reason: placed });
        continue;
      }
      await symlink(link.target, join(this.root, link.path));
      placed.parent.children.set(placed.name, { kind: "symlink", children: new Map() });
      created += 1;
    }
    const deepestFirst = [...this.directoryModes].sort((a, b) => b.depth - a.depth);
    for (const { path, mode } of deepestFirst)
      await chmod(join(this.root, path), exportedDirectoryMode(mode));
    return { skipped, symlinks_created: created };
  }

  private lookup(path: string): TreeNode | undefined {
    let node: TreeNode | undefined = this.top;
    for (const segment of path.split("/")) node = node?.children.get(segment);
    return node;
  }

  /**
   * Creates the missing parent directories of `path` and returns its parent node; says why not
   * when a parent is a file or a symlink.
   */
  private async place(path: string): Promise<{ parent: TreeNode; name: string; depth: number } | string> {
    const linkAbove = this.deferred.linkAbove(path);
    if (linkAbove !== undefined) return `it is below the symlink ${JSON.stringify(linkAbove)}`;
    const segments = path.split("/");
    let node = this.top;
    for (let index = 0; index < segments.length - 1; index += 1) {
      const segment = segments[index] as string;
      const child = node.children.get(segment);
      if (child === undefined) {
        node = await this.makeDirectory(node, segment, segments.slice(0, index + 1).join("/"));
        continue;
      }
      const parent = JSON.stringify(segments.slice(0, index + 1).join("/"));
      if (child.kind === "file") return `its parent ${parent} is a file`;
      if (child.kind === "symlink") return `it is below the symlink ${parent}`;
      node = child;
    }
    return { parent: node, name: segments[segments.length - 1] as string, depth: segments.length };
  }

  private async makeDirectory(parent: TreeNode, name: string, path: string): Promise<TreeNode> {
    this.count();
    // Writable until finish() applies the mode of the directory's own entry, if it has one.
    await mkdir(join(this.root, path), 0o755);
    const node: TreeNode = { kind: "directory", children: new Map() };
    parent.children.set(name, node);
    return node;
  }

  private count(): void {
    this.created += 1;
    if (this.created > this.maxEntries) {
      throw new PyroError("LIMIT_EXCEEDED", `The export holds more than ${this.maxEntries} entries.`, {
        hint: "Raise PYRO_MAX_ARCHIVE_ENTRIES, or export a smaller directory.",
        details: { limit: "PYRO_MAX_ARCHIVE_ENTRIES", value: this.maxEntries },
      });
    }
  }
}
