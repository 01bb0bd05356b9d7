import type { SandboxStore } from "../store.js";
import { execFile } from "node:child_process";
import { existsSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join, posix, resolve } from "node:path";
import { promisify } from "node:util";
import { PyroError } from "../../errors/index.js";
import { ensureHostSpace } from "../../archive/index.js";
import { driverByName } from "../../machine/registry.js";
import { isSupervisorAlive, loadVm, machineDir } from "../vm/manager.js";
import { debugfsPath, listDirectories, readInode, statInode, type RawEntry } from "../../ext4/debugfs.js";
import { diskNameBytes, escapeDiskName } from "../../ext4/names.js";
import { readWorkspaceRecord, workspaceFiles } from "./record.js";
import { copyWorkspaceIntoRoot } from "./disk-export-workspace.js";
import { GUEST_WORKDIR } from "../guest-env.js";
import { GUEST_SECRETS_DIR } from "./secrets.js";

const run = promisify(execFile);

/** Guest paths that hold runtime-only state; never listed, read or exported. */
const RUNTIME_ONLY = [GUEST_SECRETS_DIR, "/run/pyro"];
const MAX_READ_BYTES = 16 * 1024 * 1024;
const MAX_ENTRIES = 10_000;

interface StoppedDisk {
  dir: string;
  /** The image file the guest writes, in its driver's format. */
  image: string;
  flatten(output: string): Promise<void>;
}

/** The disk of a stopped workspace; disk tools never touch a running one. */
function stoppedDisk(store: SandboxStore, id: string): StoppedDisk {
  readWorkspaceRecord(store, id);
  const vm = loadVm(store, id);
  const dir = machineDir(store, id);
  const disk = driverByName(vm.backend).disk;
  const image = disk.imageFile(dir);
  if (image === null)
    throw new PyroError("NO_DISK", `workspace ${id} runs in host-compat mode and has no disk`);
  if (isSupervisorAlive(store, vm)) throw new PyroError("WORKSPACE_RUNNING", `workspace ${id} is running`);
  return { dir, image, flatten: (output) => disk.flatten(dir, output) };
}

/** Flattens the disk into a raw ext4 image at `path` (sparse), once the host has room for it. */
async function flatten(disk: StoppedDisk, path: string): Promise<void> {
  await ensureHostSpace(dirname(path), statSync(disk.image).blocks * 512, "a copy of the workspace disk");
  await disk.flatten(path);
}

/** The workspace's own disk (holding /workspace) when it has one, stopped, as a StoppedDisk. */
function stoppedWorkspaceDisk(store: SandboxStore, id: string): StoppedDisk | null {
  const root = stoppedDisk(store, id);
  const format = driverByName(loadVm(store, id).backend).workspaceImage;
  const image = workspaceFiles(store, id).disk;
  if (format === null || !existsSync(image)) return null;
  return { dir: root.dir, image, flatten: (output) => format.flatten(image, output) };
}

/**
 * A raw image of the stopped disk that holds `path`, for reading, cached until that disk changes,
 * and the path inside that disk's file system: /workspace paths are read from the workspace's
 * own disk when it has one.
 */
async function readableImage(
  store: SandboxStore,
  id: string,
  path: string,
): Promise<{ image: string; inner: string; prefix: string }> {
  const ownDisk = isWorkspacePath(path) ? stoppedWorkspaceDisk(store, id) : null;
  const disk = ownDisk ?? stoppedDisk(store, id);
  const inner = ownDisk === null ? path : path.slice(GUEST_WORKDIR.length) || "/";
  const kind = ownDisk === null ? "disk" : "workspace";
  const stamp = statSync(disk.image);
  const image = join(machineDir(store, id), `${kind}-${stamp.size}-${Math.floor(stamp.mtimeMs)}.raw`);
  if (!existsSync(image)) {
    dropDiskCache(store, id, kind); // older flattenings describe a disk that has changed since
    const partial = `${image}.partial`;
    await flatten(disk, partial);
    renameSync(partial, image);
  }
  return { image, inner, prefix: ownDisk === null ? "" : GUEST_WORKDIR };
}

const isWorkspacePath = (path: string): boolean =>
  path === GUEST_WORKDIR || path.startsWith(`${GUEST_WORKDIR}/`);

/** Removes flattened copies of the disks (before a start, which makes them stale). */
export function dropDiskCache(
  store: SandboxStore,
  id: string,
  kind: "disk" | "workspace" | "all" = "all",
): void {
  const pattern = kind === "all" ? "(disk|workspace)" : kind;
  const flattened = new RegExp(`^${pattern}-\\d+-\\d+\\.raw(\\.partial)?$`);
  for (const name of readdirSync(machineDir(store, id))) {
    if (flattened.test(name)) rmSync(join(machineDir(store, id), name), { force: true });
  }
}

/** Absolute guest path from a user path (relative paths start at /workspace); refuses runtime-only state. */
function diskPath(input: string): string {
  if (input.includes("\0")) throw new PyroError("INVALID_ARGUMENT", "paths may not contain NUL bytes");
  const normal = posix.normalize(input.startsWith("/") ? input : `/workspace/${input}`);
  const absolute = normal.length > 1 && normal.endsWith("/") ? normal.slice(0, -1) : normal;
  if (isRuntimeOnly(absolute)) {
    throw new PyroError(
      "FILE_NOT_FOUND",
      `${absolute} holds runtime-only state and is not part of the disk view`,
    );
  }
  return absolute;
}

function isRuntimeOnly(path: string): boolean {
  return RUNTIME_ONLY.some((hidden) => path === hidden || path.startsWith(`${hidden}/`));
}

export interface DiskEntry {
  /** Names as escapeDiskName shows them (odd bytes as `\xHH`); give a path back as shown. */
  path: string;
  type: "file" | "directory" | "symlink" | "other";
  size: number;
  mode: string;
}

const ROOT_INODE = 2;
const TYPES: Readonly<Record<number, DiskEntry["type"]>> = {
  0o04: "directory",
  0o10: "file",
  0o12: "symlink",
};
/** Directories listed per debugfs run during a recursive listing. */
const DIRECTORIES_PER_RUN = 256;

const typeOf = (mode: number): DiskEntry["type"] => TYPES[mode >> 12] ?? "other";

/**
 * Finds a path's inode by walking its components from the root, matching names byte for byte.
 * Links are never followed: a symlink on the way is an error.
 */
async function lookup(
  image: string,
  path: string,
  hint: string,
  shownPrefix = "",
): Promise<{ inode: number; mode: number; size: number }> {
  let found = { inode: ROOT_INODE, mode: 0o040755, size: 0 };
  let walked = shownPrefix;
  for (const component of path.split("/").filter((part) => part !== "")) {
    if (typeOf(found.mode) === "symlink") {
      throw new PyroError(
        "INVALID_ARGUMENT",
        `${walked} is a symbolic link; links are reported, not followed`,
      );
    }
    if (typeOf(found.mode) !== "directory")
      throw new PyroError("FILE_NOT_FOUND", `${walked} is not a directory`, { hint });
    const wanted = diskNameBytes(component);
    let next: RawEntry | undefined;
    await listDirectories(image, [found.inode], (_, entry) => {
      if (entry.name.equals(wanted)) next = entry;
      return next === undefined;
    });
    walked += `/${component}`;
    if (next === undefined)
      throw new PyroError("FILE_NOT_FOUND", `${walked} does not exist on the disk`, { hint });
    found = next;
  }
  return found;
}

/**
 * Lists a directory of the stopped disk (symlinks are reported, never followed). Every name is
 * listed, escaped (see escapeDiskName); past MAX_ENTRIES the listing stops, `truncated`.
 */
export async function diskList(store: SandboxStore, id: string, path = "/workspace", recursive = false) {
  const root = diskPath(path);
  const { image, inner, prefix } = await readableImage(store, id, root);
  const top = await lookup(image, inner, diskListHint(id), prefix);
  if (typeOf(top.mode) !== "directory") throw new PyroError("INVALID_ARGUMENT", `${root} is not a directory`);
  const entries: DiskEntry[] = [];
  const paths = new Map<number, string>([[top.inode, root]]);
  // A crafted disk may link a directory into itself: each is listed once.
  const seen = new Set<number>([top.inode]);
  let pending = [top.inode];
  let truncated = false;
  while (pending.length > 0 && !truncated) {
    const batch = pending.slice(0, DIRECTORIES_PER_RUN);
    pending = pending.slice(batch.length);
    await listDirectories(image, batch, (directory, entry) => {
      if (entries.length >= MAX_ENTRIES) {
        truncated = true;
        return false;
      }
      const parent = paths.get(directory) ?? "";
      const entryPath = `${parent === "/" ? "" : parent}/${escapeDiskName(entry.name)}`;
      if (isRuntimeOnly(entryPath)) return true;
      const type = typeOf(entry.mode);
      entries.push({
        path: entryPath,
        type,
        size: entry.size,
        mode: (entry.mode & 0o7777).toString(8).padStart(4, "0"),
      });
      if (recursive && type === "directory" && !seen.has(entry.inode)) {
        seen.add(entry.inode);
        paths.set(entry.inode, entryPath);
        pending.push(entry.inode);
      }
      return true;
    });
  }
  return { workspace_id: id, path: root, entries, truncated };
}

/** Reads one regular file of the stopped disk; no more than the cap ever leaves debugfs. */
export async function diskRead(store: SandboxStore, id: string, path: string, maxBytes = 1024 * 1024) {
  const target = diskPath(path);
  const { image, inner, prefix } = await readableImage(store, id, target);
  const found = await lookup(image, inner, diskListHint(id), prefix);
  const type = typeOf(found.mode);
  if (type === "symlink") {
    const link = /^Fast link dest: "(.*)"$/m.exec(await statInode(image, found.inode))?.[1];
    const shown =
      link === undefined ? "" : ` to ${escapeDiskName(Buffer.from(link, "latin1"), true).slice(0, 1024)}`;
    throw new PyroError(
      "INVALID_ARGUMENT",
      `${target} is a symbolic link${shown}; links are reported, not followed`,
    );
  }
  if (type !== "file") throw new PyroError("INVALID_ARGUMENT", `${target} is not a regular file`);
  const limit = Math.min(maxBytes, MAX_READ_BYTES);
  const content = await readInode(image, found.inode, Math.min(found.size, limit));
  return { workspace_id: id, path: target, size: found.size, truncated: found.size > limit, content };
}

/** A name debugfs takes inside double quotes: printable ASCII without quotes or backslashes. */
const QUOTABLE = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/** Removes runtime-only folders (flat folders of files) from an image, should any be on disk. */
async function scrubRuntimeState(image: string): Promise<void> {
  for (const dir of RUNTIME_ONLY) {
    const found = await lookup(image, dir, "").catch((error: unknown) => {
      if (error instanceof PyroError && error.code === "FILE_NOT_FOUND") return undefined;
      throw error;
    });
    if (found === undefined) continue;
    const names: string[] = [];
    await listDirectories(image, [found.inode], (_, entry) => {
      names.push(entry.name.toString("latin1"));
      return true;
    });
    if (names.some((name) => !QUOTABLE.test(name))) {
      throw new PyroError("EXEC_FAILED", `${dir} on the disk holds a name pyro cannot remove safely`, {
        hint: "Start the workspace, empty that folder, stop it and export again.",
      });
    }
    const requests = [...names.map((name) => `rm "${dir}/${name}"`), `rmdir "${dir}"`];
    for (const request of requests) await run(debugfsPath(), ["-w", "-R", request, image]);
  }
}

/**
 * Writes the stopped disk as a raw ext4 image, runtime-only state removed. Built beside the
 * output and renamed into place: a failure (a full disk included) leaves nothing behind.
 */
export async function diskExport(store: SandboxStore, id: string, output: string, overwrite = false) {
  const disk = stoppedDisk(store, id);
  const target = resolve(output);
  if (!existsSync(dirname(target)))
    throw new PyroError("FILE_NOT_FOUND", `the directory ${dirname(target)} does not exist`, {
      hint: "Create the output's parent directory on the host first.",
    });
  if (existsSync(target) && !overwrite) throw new PyroError("OUTPUT_EXISTS", `${target} already exists`);
  const partial = join(dirname(target), `.${basename(target)}.pyro-partial-${process.pid}`);
  const workspaceRaw = `${partial}.workspace`;
  try {
    await flatten(disk, partial);
    await scrubRuntimeState(partial);
    const ownDisk = stoppedWorkspaceDisk(store, id);
    if (ownDisk !== null) {
      // /workspace lives on its own disk: the export holds it where it appears in the guest.
      await flatten(ownDisk, workspaceRaw);
      await copyWorkspaceIntoRoot(partial, workspaceRaw);
    }
    renameSync(partial, target);
  } finally {
    rmSync(partial, { force: true });
    rmSync(workspaceRaw, { force: true });
  }
  const size = statSync(target).size;
  return { workspace_id: id, output_path: target, bytes: size, format: "raw-ext4" };
}

/** A stopped workspace's files are listed from its disk; `file list` needs it running. */
function diskListHint(id: string): string {
  return `List the stopped disk with \`pyro workspace disk list ${id} [DIR]\`.`;
}
