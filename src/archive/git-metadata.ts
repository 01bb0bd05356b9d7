import { constants } from "node:fs";
import { chmod, lstat, open, readdir, rm, unlink, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { inertGitConfigEntry } from "./git-config-allowlist.js";
import { entryKey, formatGitConfig, parseGitConfig, writableEntry } from "./git-config.js";

/** What an export did to the git repositories it holds. */
export interface GitMetadataReport {
  /** True when the caller kept the guest's hooks and config as they were. */
  trusted: boolean;
  /** Git directories found, relative to the exported root ("." for the root itself). At most MAX_REPORTED. */
  git_dirs: string[];
  git_dir_count: number;
  /** What was removed: a hook file, a whole file, or one config key (`key`). At most MAX_REPORTED. */
  removed: Array<{ path: string; key?: string }>;
  /** Everything removed, including what did not fit in `removed`. */
  removed_count: number;
}

const MAX_REPORTED = 1000;
// A repository config is a few KiB; a bigger one is replaced whole rather than read.
const MAX_CONFIG_BYTES = 1024 * 1024;
const CONFIG_FILES = ["config", "config.worktree"];
const MINIMAL_CONFIG = "[core]\n\trepositoryformatversion = 0\n";
const PREAMBLE = [
  "Exported by pyro from a workspace. Keys that could run programs or read other files on this",
  "host were removed (re-export with --trust-git-metadata to keep them):",
];

/**
 * Neutralises every git directory in a staged export before it is placed on the host: hooks are
 * deleted and each repository config keeps only inert keys (see git-config-allowlist.ts), so
 * that no git command later run in the exported folder executes what the guest wrote. Objects,
 * refs, the index and everything else are kept. Symlinks are never followed; directories the
 * guest made unwritable are opened up while they are worked on and restored afterwards.
 */
export async function neutraliseGitMetadata(
  stagedRoot: string,
  rootName: string,
): Promise<GitMetadataReport> {
  const report: GitMetadataReport = {
    trusted: false,
    git_dirs: [],
    git_dir_count: 0,
    removed: [],
    removed_count: 0,
  };
  const restore: Array<[string, number]> = [];
  const remove = (path: string, key?: string): void => {
    report.removed_count += 1;
    if (report.removed.length < MAX_REPORTED)
      report.removed.push(key === undefined ? { path } : { path, key });
  };
  try {
    const pending: Array<[string, string]> = [[stagedRoot, "."]];
    for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
      const [dir, relative] = next;
      const stats = await lstat(dir);
      if ((stats.mode & 0o700) !== 0o700) {
        restore.push([dir, stats.mode & 0o7777]);
        await chmod(dir, stats.mode | 0o700);
      }
      const entries = await readdir(dir, { withFileTypes: true });
      const name = relative === "." ? basename(rootName) : basename(relative);
      const gitDirectory = isGitDirectory(name, entries);
      if (gitDirectory) {
        report.git_dir_count += 1;
        if (report.git_dirs.length < MAX_REPORTED) report.git_dirs.push(relative);
        await neutraliseGitDirectory(dir, relative, remove);
      }
      for (const entry of entries) {
        // A git directory's hooks/ is gone by now.
        if (entry.isDirectory() && !(gitDirectory && entry.name === "hooks")) {
          pending.push([join(dir, entry.name), join(relative, entry.name)]);
        }
      }
    }
  } finally {
    // Deepest first: a parent's mode never blocks restoring a child.
    for (const [dir, mode] of restore.reverse()) await chmod(dir, mode);
  }
  return report;
}

/**
 * Git's own test (is_git_directory) wants HEAD and objects/ + refs/ (or a commondir file); any
 * directory that could pass it, or is named .git, is treated as a repository.
 */
function isGitDirectory(
  name: string,
  entries: ReadonlyArray<{ name: string; isDirectory(): boolean }>,
): boolean {
  if (name === ".git") return true;
  const names = new Set(entries.map((entry) => entry.name));
  const dirs = new Set(entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name));
  return (
    (names.has("HEAD") && (dirs.has("objects") || names.has("commondir"))) ||
    (dirs.has("objects") && dirs.has("refs"))
  );
}

async function neutraliseGitDirectory(
  dir: string,
  relative: string,
  remove: (path: string, key?: string) => void,
): Promise<void> {
  const hooks = join(dir, "hooks");
  const hookStats = await lstat(hooks).catch(() => undefined);
  if (hookStats !== undefined) {
    if (hookStats.isDirectory()) await chmod(hooks, 0o700);
    for (const hook of hookStats.isDirectory() ? await listFiles(hooks, "hooks") : ["hooks"]) {
      if (!hook.endsWith(".sample")) remove(join(relative, hook));
    }
    await rm(hooks, { recursive: true, force: true });
  }
  for (const file of CONFIG_FILES) {
    const path = join(dir, file);
    const stats = await lstat(path).catch(() => undefined);
    if (stats === undefined || stats.isDirectory()) continue;
    const shown = join(relative, file);
    if (!stats.isFile()) {
      // A link would make git read another guest-written file as this config.
      await unlink(path);
      remove(shown);
      continue;
    }
    const text = stats.size > MAX_CONFIG_BYTES ? null : await readNoFollow(path);
    const entries = text === null ? null : parseGitConfig(text);
    if (entries === null) {
      await replaceFile(path, file === "config" ? MINIMAL_CONFIG : "");
      remove(shown);
      continue;
    }
    const kept = entries.filter((entry) => inertGitConfigEntry(entry) && writableEntry(entry));
    if (kept.length === entries.length) continue;
    const dropped = entries.filter((entry) => !kept.includes(entry));
    for (const entry of dropped) remove(shown, entryKey(entry));
    await replaceFile(path, formatGitConfig(kept, [...PREAMBLE, ...new Set(dropped.map(entryKey))]));
  }
}

/** Every non-directory below `dir`, as paths starting with `prefix`; directories are opened up for rm. */
async function listFiles(dir: string, prefix: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      await chmod(join(dir, entry.name), 0o700);
      files.push(...(await listFiles(join(dir, entry.name), join(prefix, entry.name))));
    } else files.push(join(prefix, entry.name));
  }
  return files;
}

async function readNoFollow(path: string): Promise<string> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    return (await handle.readFile()).toString("utf8");
  } finally {
    await handle.close();
  }
}

/** Replaces a file with new content (a new inode, so a hard-linked original is left alone). */
async function replaceFile(path: string, content: string): Promise<void> {
  const stats = await lstat(path);
  await unlink(path);
  await writeFile(path, content, { flag: "wx", mode: stats.mode & 0o666 });
}
