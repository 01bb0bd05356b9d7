import { MAX_SYMLINK_HOPS } from "./limits.js";

/**
 * Whether the symlink at `linkPath` (a normalised path relative to the tree root) with `target`
 * leads outside the tree. Resolution is done inside the tree as the kernel would do it, following
 * the other symlinks of the tree (`symlinks`: path → target), so a chain such as `b -> .` plus
 * `a -> b/..` is seen to escape even though each target looks harmless on its own. Going above the
 * root at any point counts as escaping: the root's own parent is not part of the tree. Absolute
 * targets, and chains longer than the kernel would follow, escape too.
 */
export function symlinkEscapes(
  linkPath: string,
  target: string,
  symlinks: ReadonlyMap<string, string>,
): boolean {
  const budget = { hops: MAX_SYMLINK_HOPS };
  const linkDirectory = linkPath.split("/").slice(0, -1);
  return resolveInTree(linkDirectory, target, symlinks, budget) === undefined;
}

function resolveInTree(
  start: readonly string[],
  target: string,
  symlinks: ReadonlyMap<string, string>,
  budget: { hops: number },
): string[] | undefined {
  if (target.startsWith("/") || target.includes("\0")) return undefined;
  let resolved = [...start];
  for (const segment of target.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      if (resolved.length === 0) return undefined;
      resolved.pop();
      continue;
    }
    const next = symlinks.get([...resolved, segment].join("/"));
    if (next === undefined) {
      resolved.push(segment);
      continue;
    }
    budget.hops -= 1;
    if (budget.hops < 0) return undefined;
    const followed = resolveInTree(resolved, next, symlinks, budget);
    if (followed === undefined) return undefined;
    resolved = followed;
  }
  return resolved;
}
