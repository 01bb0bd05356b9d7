import { execFile } from "node:child_process";
import { lstatSync, mkdirSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { PyroError } from "../../errors/index.js";
import { debugfsPath } from "../../ext4/debugfs.js";

const run = promisify(execFile);

/** Whether debugfs takes the name inside double quotes: no quote, backslash or control character. */
const quotable = (name: string): boolean =>
  name.length > 0 &&
  [...name].every((char) => char !== '"' && char !== "\\" && char.charCodeAt(0) >= 0x20 && char !== "\x7f");

/** An ext4 timestamp as debugfs's set_inode_field reads it (YYYYMMDDHHMMSS, UTC). */
const stamp = (date: Date): string => date.toISOString().replace(/[-:T]/g, "").slice(0, 14);

/**
 * Copies the file system of `workspaceRaw` (a raw ext4 image: the workspace's own disk) into the
 * root file system image `rootRaw` at /workspace (its empty mount point there), so an exported
 * disk holds /workspace as it did when it was a folder of the root disk. Files, folders and
 * symlinks keep mode, owner and modification time; hard links become copies.
 */
export async function copyWorkspaceIntoRoot(
  rootRaw: string,
  workspaceRaw: string,
  scratch: string,
): Promise<void> {
  const tree = join(scratch, "tree");
  mkdirSync(tree, { recursive: true, mode: 0o700 });
  try {
    await run(debugfsPath(), ["-R", `rdump / ${tree}`, workspaceRaw], { maxBuffer: 16 * 1024 * 1024 });
    const lines: string[] = [];
    addTree(tree, "", lines);
    const script = join(scratch, "script");
    writeFileSync(script, `${lines.join("\n")}\n`, { mode: 0o600 });
    await run(debugfsPath(), ["-w", "-f", script, rootRaw], { maxBuffer: 256 * 1024 * 1024 });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function addTree(tree: string, relative: string, lines: string[]): void {
  const host = relative === "" ? tree : join(tree, relative);
  for (const raw of readdirSync(host, { encoding: "buffer" })) {
    const name = raw.toString("utf8");
    if (!Buffer.from(name, "utf8").equals(raw) || !quotable(name)) {
      throw new PyroError(
        "EXEC_FAILED",
        `a name in /workspace cannot be copied into the exported disk: ${JSON.stringify(name)}`,
        {
          hint: "Rename it (quotes, backslashes and control characters are not supported here), or export with the workspace running `pyro workspace export`.",
        },
      );
    }
    if (relative === "" && name === "lost+found") continue;
    const child = relative === "" ? name : `${relative}/${name}`;
    const hostPath = join(tree, child);
    const guest = `"/workspace/${child}"`;
    const stat = lstatSync(hostPath);
    if (stat.isDirectory()) lines.push(`mkdir ${guest}`);
    else if (stat.isFile()) lines.push(`write "${hostPath}" ${guest}`);
    else if (stat.isSymbolicLink()) {
      const target = readlinkSync(hostPath);
      if (!quotable(target)) continue;
      lines.push(`symlink ${guest} "${target}"`);
      continue;
    } else continue; // devices, fifos and sockets are not copied
    // A folder's own fields last: adding its entries would change its modification time.
    if (stat.isDirectory()) addTree(tree, child, lines);
    lines.push(
      `sif ${guest} mode 0${stat.mode.toString(8)}`,
      `sif ${guest} uid ${stat.uid}`,
      `sif ${guest} gid ${stat.gid}`,
      `sif ${guest} mtime ${stamp(stat.mtime)}`,
    );
  }
}
