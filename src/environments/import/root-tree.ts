import {
  chmodSync,
  constants,
  lstatSync,
  mkdirSync,
  readdirSync,
  rmSync,
  unlinkSync,
  writeFileSync,
  closeSync,
  openSync,
  type Stats,
} from "node:fs";
import { join } from "node:path";
import { PyroError } from "../../errors/index.js";

// O_EXCL refuses anything already there, a symlink included; O_NOFOLLOW says so explicitly.
export const CREATE_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** IMAGE_UNSAFE for a layer member (layer 0: a path pyro writes) that would reach outside the root, or a malformed one. */
export function unsafeMember(layer: number, name: string, reason: string): PyroError {
  const where = layer === 0 ? "The image's tree" : `Layer ${layer} of the image`;
  return new PyroError("IMAGE_UNSAFE", `${where} is unsafe: ${JSON.stringify(name)} ${reason}.`, {
    details: { layer, member: name },
  });
}

/**
 * The root tree an image unpacks into. Every path is relative to the root and walked a component
 * at a time with lstat, so nothing the layers put there (a symlink `etc -> /`, `lib -> ../../..`)
 * is ever followed: a member whose parent is a symlink is refused. We are the only writer of the
 * tree, so a component checked stays what it was.
 */
export class RootTree {
  /** Relative paths known to be real directories (cleared whenever a directory is removed). */
  private readonly knownDirs = new Set<string>([""]);

  constructor(readonly root: string) {}

  absolute(path: string): string {
    return path === "" ? this.root : join(this.root, path);
  }

  lstat(path: string): Stats | undefined {
    return lstatSync(this.absolute(path), { throwIfNoEntry: false });
  }

  /**
   * Checks that every proper ancestor of `path` is a real directory; missing ones are created
   * (owned by root, 0755) when `create`, else false is returned. A symlink or other file on the
   * way is IMAGE_UNSAFE.
   */
  walkParents(
    path: string,
    layer: number,
    name: string,
    create: boolean,
    created?: (dir: string) => void,
  ): boolean {
    const segments = path.split("/");
    let prefix = "";
    for (let index = 0; index < segments.length - 1; index += 1) {
      prefix = prefix === "" ? (segments[index] as string) : `${prefix}/${segments[index] as string}`;
      if (this.knownDirs.has(prefix)) continue;
      const stats = this.lstat(prefix);
      if (stats === undefined) {
        if (!create) return false;
        mkdirSync(this.absolute(prefix), { mode: 0o755 });
        created?.(prefix);
      } else if (stats.isSymbolicLink()) {
        throw unsafeMember(layer, name, `would be written through the symlink /${prefix}`);
      } else if (!stats.isDirectory()) {
        throw unsafeMember(layer, name, `lies under /${prefix}, which is not a directory`);
      }
      this.knownDirs.add(prefix);
    }
    return true;
  }

  noteDirectory(path: string): void {
    this.knownDirs.add(path);
  }

  /** Removes whatever is at `path` (a directory with its contents), never following a symlink. */
  remove(path: string): void {
    const stats = this.lstat(path);
    if (stats === undefined) return;
    if (stats.isDirectory()) {
      rmSync(this.absolute(path), { recursive: true, force: true });
      this.knownDirs.clear();
      this.knownDirs.add("");
    } else {
      unlinkSync(this.absolute(path));
    }
  }

  /**
   * Creates the missing directories of `path` (`mode` for those created), as `mkdir -p` would
   * inside the root, except that it stops at a symlink or a non-directory on the way and leaves it:
   * an image's `/bin -> usr/bin` stays as the image has it. Returns whether `path` is now a real
   * directory.
   */
  makeDirectories(path: string, mode: number): boolean {
    let prefix = "";
    for (const segment of path.split("/")) {
      prefix = prefix === "" ? segment : `${prefix}/${segment}`;
      if (this.knownDirs.has(prefix)) continue;
      const stats = this.lstat(prefix);
      if (stats === undefined) {
        mkdirSync(this.absolute(prefix));
        chmodSync(this.absolute(prefix), mode);
      } else if (!stats.isDirectory()) {
        return false;
      }
      this.knownDirs.add(prefix);
    }
    return true;
  }

  /** Replaces whatever is at `path` with a new root-owned file holding `text`. */
  replaceFile(path: string, text: string): void {
    this.walkParents(path, 0, path, true);
    this.remove(path);
    const fd = openSync(this.absolute(path), CREATE_NEW, 0o644);
    try {
      writeFileSync(fd, text);
    } finally {
      closeSync(fd);
    }
  }

  /** Names in the directory at `path` (which the caller checked is a real directory). */
  children(path: string): string[] {
    return readdirSync(this.absolute(path));
  }
}
