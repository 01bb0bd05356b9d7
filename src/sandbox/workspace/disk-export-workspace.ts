import { execFile } from "node:child_process";
import { lstatSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { currentTarLimits } from "../../archive/limits.js";
import { PyroError } from "../../errors/index.js";
import { debugfsPath, listDirectories, readInode, type RawEntry } from "../../ext4/debugfs.js";

const run = promisify(execFile);
const ROOT_INODE = 2;
const DIRECTORIES_PER_RUN = 256;
const MAX_LINK_BYTES = 4096;

/** Whether debugfs takes the name inside double quotes: no quote, backslash or control character. */
const quotable = (name: string): boolean =>
  name.length > 0 &&
  [...name].every((char) => char !== '"' && char !== "\\" && char.charCodeAt(0) >= 0x20 && char !== "\x7f");

/** An ext4 timestamp as debugfs's set_inode_field reads it (YYYYMMDDHHMMSS, UTC). */
const stamp = (date: Date): string => date.toISOString().replace(/[-:T]/g, "").slice(0, 14);

const typeOf = (mode: number): number => mode >> 12;
const DIRECTORY = 0o04;
const FILE = 0o10;
const SYMLINK = 0o12;

/**
 * Copies the file system of `workspaceRaw` (a raw ext4 image of the workspace's own disk, which
 * the guest controls) into the root file system image `rootRaw` at /workspace, its empty mount
 * point there, so an exported disk holds /workspace as it did when it was a folder of the root
 * disk. The guest's names never reach the host's file system: file contents are dumped to
 * numbered files in a private scratch folder and written into the image by inode; each
 * directory is visited once, and names debugfs cannot quote are refused. Files keep mode, owner
 * and modification time, folders their mode; hard links become copies, devices are left out.
 */
export async function copyWorkspaceIntoRoot(rootRaw: string, workspaceRaw: string): Promise<void> {
  // Its own name: the output's folder (the caller's choice) may hold characters debugfs cannot quote.
  const scratch = mkdtempSync(join(tmpdir(), "pyro-export-"));
  try {
    const entries = await walk(workspaceRaw);
    const dumps: string[] = [];
    const script: string[] = [];
    const folderModes: string[] = [];
    for (const [index, entry] of entries.entries()) {
      const guest = `"/workspace/${entry.path}"`;
      const type = typeOf(entry.mode);
      if (type === DIRECTORY) {
        script.push(`mkdir ${guest}`);
        folderModes.unshift(`sif ${guest} mode 0${entry.mode.toString(8)}`);
      } else if (type === FILE) {
        const host = join(scratch, String(index));
        dumps.push(`dump -p <${entry.inode}> "${host}"`);
        script.push(`write "${host}" ${guest}`);
      } else if (type === SYMLINK) {
        const target = (await readInode(workspaceRaw, entry.inode, MAX_LINK_BYTES)).toString("utf8");
        if (quotable(target)) script.push(`symlink ${guest} "${target}"`);
      }
    }
    if (dumps.length > 0) await debugfsScript(workspaceRaw, dumps, scratch, false);
    // Owner, mode and time of each file as dump -p gave them to its numbered copy.
    for (const [index, entry] of entries.entries()) {
      if (typeOf(entry.mode) !== FILE) continue;
      const stat = lstatSync(join(scratch, String(index)));
      const guest = `"/workspace/${entry.path}"`;
      script.push(
        `sif ${guest} mode 0${stat.mode.toString(8)}`,
        `sif ${guest} uid ${stat.uid}`,
        `sif ${guest} gid ${stat.gid}`,
        `sif ${guest} mtime ${stamp(stat.mtime)}`,
      );
    }
    // Deepest folders first, after everything inside them exists.
    await debugfsScript(rootRaw, [...script, ...folderModes], scratch, true);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function debugfsScript(image: string, lines: string[], scratch: string, write: boolean): Promise<void> {
  const file = join(scratch, write ? "write.script" : "dump.script");
  writeFileSync(file, `${lines.join("\n")}\n`, { mode: 0o600 });
  await run(debugfsPath(), [...(write ? ["-w"] : []), "-f", file, image], { maxBuffer: 256 * 1024 * 1024 });
}

/** Every entry below the root, parents before children, with checked names. */
async function walk(image: string): Promise<Array<RawEntry & { path: string }>> {
  const limit = currentTarLimits().maxEntries;
  const found: Array<RawEntry & { path: string }> = [];
  const paths = new Map<number, string>([[ROOT_INODE, ""]]);
  const seen = new Set<number>([ROOT_INODE]);
  let pending = [ROOT_INODE];
  let problem: PyroError | null = null;
  while (pending.length > 0 && problem === null) {
    const batch = pending.slice(0, DIRECTORIES_PER_RUN);
    pending = pending.slice(batch.length);
    await listDirectories(image, batch, (directory, entry) => {
      const name = entry.name.toString("utf8");
      if (name === "." || name === "..") return true;
      const parent = paths.get(directory) ?? "";
      if (parent === "" && name === "lost+found") return true;
      if (!Buffer.from(name, "utf8").equals(entry.name) || name.includes("/") || !quotable(name)) {
        problem = new PyroError(
          "EXEC_FAILED",
          `a name in /workspace cannot be copied into the exported disk: ${JSON.stringify(name)}`,
          {
            hint: "Rename it (quotes, backslashes and control characters are not supported here) and export again.",
          },
        );
        return false;
      }
      if (found.length >= limit) {
        problem = new PyroError("LIMIT_EXCEEDED", `/workspace holds more than ${limit} entries to export`, {
          hint: "Raise PYRO_MAX_ARCHIVE_ENTRIES, or export a smaller workspace.",
        });
        return false;
      }
      const path = parent === "" ? name : `${parent}/${name}`;
      // A crafted disk may link a directory twice: it is copied once.
      if (typeOf(entry.mode) === DIRECTORY) {
        if (seen.has(entry.inode)) return true;
        seen.add(entry.inode);
        paths.set(entry.inode, path);
        pending.push(entry.inode);
      }
      found.push({ ...entry, path });
      return true;
    });
  }
  if (problem !== null) throw problem;
  // Listing order is breadth first by batches: parents always come before their entries.
  return found;
}
