import { execFile } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import { basename, dirname, join, posix, resolve } from "node:path";
import { promisify } from "node:util";
import { PyroError } from "../../errors/index.js";
import { findExecutable } from "../../platform/find-executable.js";
import { vmDir } from "../paths.js";
import { isSupervisorAlive, loadVm } from "../vm-manager.js";
import { vmFiles } from "../vm-record.js";
import { readWorkspaceRecord } from "./record.js";
import { GUEST_SECRETS_DIR } from "./secrets.js";

const run = promisify(execFile);

/** Guest paths that hold runtime-only state; never listed, read or exported. */
const RUNTIME_ONLY = [GUEST_SECRETS_DIR, "/run/pyro"];
const MAX_READ_BYTES = 16 * 1024 * 1024;
const MAX_ENTRIES = 10_000;

function tool(name: string, apt: string): string {
  const path = findExecutable(name);
  if (path === null)
    throw new PyroError("DEPENDENCY_MISSING", `${name} is not installed`, { hint: `apt-get install ${apt}` });
  return path;
}

/** The overlay of a stopped workspace; disk tools never touch a running one. */
function stoppedDisk(id: string): string {
  readWorkspaceRecord(id);
  const vm = loadVm(id);
  if (vm.execution_mode === "host_compat")
    throw new PyroError("NO_DISK", `workspace ${id} runs in host-compat mode and has no disk`);
  if (isSupervisorAlive(vm)) throw new PyroError("WORKSPACE_RUNNING", `workspace ${id} is running`);
  return vmFiles(vmDir(id)).overlay;
}

/** Flattens the copy-on-write overlay into a raw ext4 image at `path` (sparse). */
async function flatten(overlay: string, path: string): Promise<void> {
  try {
    await run(tool("qemu-img", "qemu-utils"), ["convert", "-q", "-O", "raw", overlay, path]);
  } catch (error) {
    rmSync(path, { force: true });
    const stderr = (error as { stderr?: string }).stderr ?? String(error);
    throw new PyroError("EXEC_FAILED", `could not flatten the disk: ${stderr.trim()}`, {
      hint: /No space left/i.test(stderr)
        ? "The host disk is full: free space and try again."
        : "Check the workspace's disk.",
    });
  }
}

/** A raw image of the stopped disk for reading, cached until the overlay changes. */
async function readableImage(id: string): Promise<string> {
  const overlay = stoppedDisk(id);
  const stamp = statSync(overlay);
  const image = join(vmDir(id), `disk-${stamp.size}-${Math.floor(stamp.mtimeMs)}.raw`);
  if (!existsSync(image)) {
    dropDiskCache(id); // older flattenings describe a disk that has changed since
    const partial = `${image}.partial`;
    await flatten(overlay, partial);
    renameSync(partial, image);
  }
  return image;
}

/** Removes flattened copies of the disk (before a start, which makes them stale). */
export function dropDiskCache(id: string): void {
  for (const name of readdirSync(vmDir(id))) {
    if (/^disk-\d+-\d+\.raw(\.partial)?$/.test(name)) rmSync(join(vmDir(id), name), { force: true });
  }
}

async function debugfs(image: string, request: string): Promise<{ stdout: string; stderr: string }> {
  const { stdout, stderr } = await run(tool("debugfs", "e2fsprogs"), ["-R", request, image], {
    maxBuffer: 64 * 1024 * 1024,
    encoding: "utf8",
  });
  return { stdout, stderr };
}

/** Absolute guest path from a user path (relative paths start at /workspace); refuses runtime-only state. */
function diskPath(input: string): string {
  if (input.includes("\0") || input.includes("\n") || input.includes('"')) {
    throw new PyroError("INVALID_ARGUMENT", "paths may not contain NUL, newlines or double quotes");
  }
  const absolute = posix.normalize(input.startsWith("/") ? input : `/workspace/${input}`);
  if (RUNTIME_ONLY.some((hidden) => absolute === hidden || absolute.startsWith(`${hidden}/`))) {
    throw new PyroError(
      "FILE_NOT_FOUND",
      `${absolute} holds runtime-only state and is not part of the disk view`,
    );
  }
  return absolute;
}

export interface DiskEntry {
  path: string;
  type: "file" | "directory" | "symlink" | "other";
  size: number;
  mode: string;
}

const TYPES: Record<string, DiskEntry["type"]> = { "04": "directory", "10": "file", "12": "symlink" };

function parseListing(stdout: string, parent: string): DiskEntry[] {
  const entries: DiskEntry[] = [];
  for (const line of stdout.split("\n")) {
    // debugfs `ls -p`: /inode/mode/uid/gid/name/size/
    const match = /^\/(\d+)\/(\d{6})\/\d+\/\d+\/(.*)\/(\d*)\/$/.exec(line);
    if (match === null) continue;
    const [, , mode, name, size] = match as unknown as [string, string, string, string, string];
    if (name === "." || name === "..") continue;
    const path = parent === "/" ? `/${name}` : `${parent}/${name}`;
    if (RUNTIME_ONLY.includes(path)) continue;
    entries.push({
      path,
      type: TYPES[mode.slice(0, 2)] ?? "other",
      size: Number(size || 0),
      mode: mode.slice(2),
    });
  }
  return entries;
}

/** Lists a directory of the stopped disk (symlinks are reported, never followed). */
export async function diskList(id: string, path = "/workspace", recursive = false) {
  const image = await readableImage(id);
  const root = diskPath(path);
  const entries: DiskEntry[] = [];
  const pending = [root];
  let truncated = false;
  while (pending.length > 0) {
    const dir = pending.shift() as string;
    const { stdout, stderr } = await debugfs(image, `ls -p "${dir}"`);
    if (/not found|File not found/i.test(stderr))
      throw new PyroError("FILE_NOT_FOUND", `${dir} does not exist on the disk`, { hint: diskListHint(id) });
    for (const entry of parseListing(stdout, dir)) {
      if (entries.length >= MAX_ENTRIES) {
        truncated = true;
        break;
      }
      entries.push(entry);
      if (recursive && entry.type === "directory") pending.push(entry.path);
    }
  }
  return { workspace_id: id, path: root, entries, truncated };
}

/** Reads one regular file of the stopped disk (size-capped). */
export async function diskRead(id: string, path: string, maxBytes = 1024 * 1024) {
  const image = await readableImage(id);
  const target = diskPath(path);
  const listing = await debugfs(image, `stat "${target}"`);
  if (/not found/i.test(listing.stderr))
    throw new PyroError("FILE_NOT_FOUND", `${target} does not exist on the disk`, { hint: diskListHint(id) });
  const type = /Type: (\w+)/.exec(listing.stdout)?.[1];
  if (type === "symlink") {
    const link = /Fast link dest: "(.*)"/.exec(listing.stdout)?.[1] ?? null;
    throw new PyroError(
      "INVALID_ARGUMENT",
      `${target} is a symbolic link${link ? ` to ${link}` : ""}; links are reported, not followed`,
    );
  }
  if (type !== "regular") throw new PyroError("INVALID_ARGUMENT", `${target} is not a regular file`);
  const scratch = mkdtempSync(join(dirname(image), "read-"));
  try {
    const out = join(scratch, "file");
    await debugfs(image, `dump "${target}" "${out}"`);
    const limit = Math.min(maxBytes, MAX_READ_BYTES);
    const size = statSync(out).size;
    const content = Buffer.alloc(Math.min(size, limit));
    const fd = openSync(out, "r");
    try {
      readSync(fd, content, 0, content.length, 0);
    } finally {
      closeSync(fd);
    }
    return { workspace_id: id, path: target, size, truncated: size > limit, content };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Removes runtime-only folders (flat folders of files) from an image, should any be on disk. */
async function scrubRuntimeState(image: string): Promise<void> {
  for (const dir of RUNTIME_ONLY) {
    const { stdout, stderr } = await debugfs(image, `ls -p "${dir}"`);
    if (/not found/i.test(stderr)) continue;
    const requests = parseListing(stdout, dir).map((entry) => `rm "${entry.path}"`);
    requests.push(`rmdir "${dir}"`);
    for (const request of requests) await run(tool("debugfs", "e2fsprogs"), ["-w", "-R", request, image]);
  }
}

/**
 * Writes the stopped disk as a raw ext4 image, runtime-only state removed. Built beside the
 * output and renamed into place: a failure (a full disk included) leaves nothing behind.
 */
export async function diskExport(id: string, output: string, overwrite = false) {
  const overlay = stoppedDisk(id);
  const target = resolve(output);
  if (!existsSync(dirname(target)))
    throw new PyroError("FILE_NOT_FOUND", `the directory ${dirname(target)} does not exist`, {
      hint: "Create the output's parent directory on the host first.",
    });
  if (existsSync(target) && !overwrite) throw new PyroError("OUTPUT_EXISTS", `${target} already exists`);
  const partial = join(dirname(target), `.${basename(target)}.pyro-partial-${process.pid}`);
  try {
    await flatten(overlay, partial);
    await scrubRuntimeState(partial);
    renameSync(partial, target);
  } finally {
    rmSync(partial, { force: true });
  }
  const size = statSync(target).size;
  return { workspace_id: id, output_path: target, bytes: size, format: "raw-ext4" };
}

/** A stopped workspace's files are listed from its disk; `file list` needs it running. */
function diskListHint(id: string): string {
  return `List the stopped disk with \`pyro workspace disk list ${id} [DIR]\`.`;
}
