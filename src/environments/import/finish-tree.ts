import { posix } from "node:path";
import type { RootTree } from "./root-tree.js";

/** Mount points pyro's init uses (the root is mounted read-only, so they must exist in the image). */
const MOUNT_POINTS: ReadonlyArray<[string, number]> = [
  ["dev", 0o755],
  ["proc", 0o555],
  ["sys", 0o555],
  ["run", 0o755],
  ["tmp", 0o1777],
  ["workspace", 0o755],
];

/**
 * What pyro's guests expect beyond the image's own files, as rootfs.ts gives a built tree: mount
 * points, /workspace, the hostname, hosts, and an empty resolv.conf (the guest's network setup
 * writes it). Also the image's WorkingDir, created as a runtime would. Directories the image has
 * as symlinks are left as they are; files are written through the tree's checked paths, so an
 * image's `etc -> /` is refused rather than followed, and a symlink at /etc/hostname is replaced.
 */
export function finishImportedTree(tree: RootTree, workingDir: string | null): void {
  for (const [dir, mode] of MOUNT_POINTS) tree.makeDirectories(dir, mode);
  tree.makeDirectories("etc", 0o755);
  tree.replaceFile("etc/hostname", "pyro\n");
  tree.replaceFile(
    "etc/hosts",
    "127.0.0.1\tlocalhost\n127.0.1.1\tpyro\n::1\tlocalhost ip6-localhost ip6-loopback\n",
  );
  tree.replaceFile("etc/resolv.conf", "");
  if (workingDir !== null && workingDir !== "/") tree.makeDirectories(workingDir.slice(1), 0o755);
}

/** The config's WorkingDir as a clean absolute path, or null when it names none. */
export function normaliseWorkingDir(value: string | null | undefined): string | null {
  if (value === null || value === undefined || value === "") return null;
  return posix.resolve("/", value);
}
