import { MAX_SYMLINK_HOPS } from "./limits.js";

/** A path component of the tree; only symlinks and their ancestors get one. */
interface PathNode {
  readonly parent: PathNode | undefined;
  readonly children: Map<string, PathNode>;
  /** Set when this path is a symlink. */
  target?: string;
  /** A symlink's memoised resolution: where it leads, or null when it escapes. */
  resolution?: Resolution;
  visiting?: boolean;
}

/**
 * A place in the tree: `below` components under `node` that no symlink lies on (paths that are
 * not in the set, so plain directories or nothing), tracked by count alone.
 */
interface Place {
  node: PathNode;
  below: number;
}

type Resolution = (Place & { hops: number }) | null;

interface Frame extends Place {
  readonly link: PathNode;
  readonly segments: readonly string[];
  index: number;
  hops: number;
}

/**
 * The symlinks of a tree (paths normalised, relative to its root) and whether each leads outside
 * it. Resolution is done inside the tree as the kernel would do it, following the other symlinks,
 * so a chain such as `b -> .` plus `a -> b/..` is seen to escape even though each target looks
 * harmless alone. Going above the root at any point escapes (its parent is not part of the tree),
 * as do absolute targets, loops and chains of more than MAX_SYMLINK_HOPS links.
 *
 * All work is linear in the bytes of the paths and targets: paths live in a tree of components
 * (never rebuilt as strings), and each link's target is walked once, its result memoised, so a
 * chain of crafted links costs no more than reading them.
 */
export class SymlinkSet {
  private readonly root: PathNode = { parent: undefined, children: new Map() };
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(path: string, target: string): void {
    let node = this.root;
    for (const segment of path.split("/")) {
      let child = node.children.get(segment);
      if (child === undefined) {
        child = { parent: node, children: new Map() };
        node.children.set(segment, child);
      }
      node = child;
    }
    if (node.target === undefined) this.count += 1;
    node.target = target;
  }

  /** The nearest proper ancestor of `path` that is a symlink of the set, if any. */
  linkAbove(path: string): string | undefined {
    if (this.count === 0) return undefined;
    const segments = path.split("/");
    let node = this.root;
    for (let index = 0; index < segments.length - 1; index += 1) {
      const child = node.children.get(segments[index] as string);
      if (child === undefined) return undefined;
      if (child.target !== undefined) return segments.slice(0, index + 1).join("/");
      node = child;
    }
    return undefined;
  }

  /** Whether the symlink at `path` (one of the set) leads outside the tree. */
  escapes(path: string): boolean {
    let node: PathNode | undefined = this.root;
    for (const segment of path.split("/")) node = node?.children.get(segment);
    if (node?.target === undefined) throw new Error(`${path} is not a symlink of the set`);
    return this.resolve(node) === null;
  }

  /** Resolves a link with an explicit stack: a long chain neither recurses nor repeats work. */
  private resolve(link: PathNode): Resolution {
    const stack: Frame[] = [];
    let outcome = this.enter(link, stack);
    while (stack.length > 0) {
      const frame = stack[stack.length - 1] as Frame;
      // `outcome` is the resolution of the link this frame was waiting on, if any.
      let finished: Resolution | undefined = outcome === undefined ? undefined : follow(frame, outcome);
      outcome = undefined;
      while (finished === undefined) {
        const segment = frame.segments[frame.index];
        if (segment === undefined) {
          finished = { node: frame.node, below: frame.below, hops: frame.hops };
          break;
        }
        frame.index += 1;
        if (segment === "" || segment === ".") continue;
        if (segment === "..") {
          if (frame.below > 0) frame.below -= 1;
          else if (frame.node.parent === undefined) finished = null;
          else frame.node = frame.node.parent;
          continue;
        }
        const child = frame.below > 0 ? undefined : frame.node.children.get(segment);
        if (child === undefined) frame.below += 1;
        else if (child.target === undefined) frame.node = child;
        else if (child.visiting === true)
          finished = null; // a loop
        else {
          const known = this.enter(child, stack);
          if (known === undefined) break; // the new frame runs first
          finished = follow(frame, known);
        }
      }
      if (finished === undefined) continue;
      frame.link.resolution = finished;
      frame.link.visiting = false;
      stack.pop();
      outcome = finished;
    }
    return link.resolution ?? null;
  }

  /** A link's known resolution, or undefined after pushing a frame to work it out. */
  private enter(link: PathNode, stack: Frame[]): Resolution | undefined {
    if (link.resolution !== undefined) return link.resolution;
    const target = link.target ?? "";
    if (target.startsWith("/") || target.includes("\0")) {
      link.resolution = null;
      return null;
    }
    link.visiting = true;
    stack.push({
      link,
      segments: target.split("/"),
      index: 0,
      node: link.parent as PathNode,
      below: 0,
      hops: 1,
    });
    return undefined;
  }
}

/** Moves `frame` to where a followed link leads; null when that escapes or too many links were followed. */
function follow(frame: Frame, resolution: Resolution): Resolution | undefined {
  if (resolution === null) return null;
  frame.node = resolution.node;
  frame.below = resolution.below;
  frame.hops += resolution.hops;
  return frame.hops > MAX_SYMLINK_HOPS ? null : undefined;
}
