import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { PyroError } from "../errors/index.js";
import { requireExecutable } from "../platform/find-executable.js";

/**
 * debugfs, read-only, on an image whose contents the guest wrote. Only inode numbers (`<N>`) are
 * ever put into a request, never a name from the disk, and listings use `ls -l`, which escapes
 * every byte of a name that could break a line (control bytes, bytes ≥ 0x7f, backslash as `\xHH`):
 * one entry per line whatever the names hold.
 */

export function debugfsPath(): string {
  return requireExecutable("debugfs", "e2fsprogs");
}

export interface RawEntry {
  inode: number;
  /** st_mode: type and permission bits. */
  mode: number;
  size: number;
  /** The name's exact bytes. */
  name: Buffer;
}

// `ls -l`: inode, mode (octal), (file type), uid, gid, size, date, then the escaped name to the end.
const ENTRY_LINE = /^ *(\d+) +([0-7]+) +\((\d+)\) +(\d+) +(\d+) +(\d+) +(\S+ \d\d:\d\d) (.*)$/;

/**
 * Lists directories by inode in one debugfs run. `onEntry` gets each entry (`.` and `..` left out)
 * with the inode of its directory and returns false to stop early; the run is then ended.
 * A line that is not an entry is an error, never skipped: a name must not be able to hide.
 */
export async function listDirectories(
  image: string,
  directories: readonly number[],
  onEntry: (directory: number, entry: RawEntry) => boolean,
): Promise<void> {
  const requests = directories.map((inode) => `ls -l <${inode}>`);
  let current: number | undefined;
  let failure: PyroError | undefined;
  await runDebugfs(image, requests, (line) => {
    const header = /^debugfs: ls -l <(\d+)>$/.exec(line);
    if (header !== null) {
      current = Number(header[1]);
      return true;
    }
    if (line === "" || current === undefined) return true;
    const match = ENTRY_LINE.exec(line);
    if (match === null) {
      failure = new PyroError("EXEC_FAILED", "debugfs printed a directory entry pyro cannot read", {
        hint: "The disk may be damaged; `workspace disk export` gives the raw image.",
        details: { line: line.slice(0, 300) },
      });
      return false;
    }
    const name = unescapeDebugfs(match[8] as string);
    if (name.equals(DOT) || name.equals(DOT_DOT)) return true;
    return onEntry(current, {
      inode: Number(match[1]),
      mode: parseInt(match[2] as string, 8),
      size: Number(match[6]),
      name,
    });
  });
  if (failure !== undefined) throw failure;
}

const DOT = Buffer.from(".");
const DOT_DOT = Buffer.from("..");

/** The stat text of one inode (bounded: debugfs prints a fixed set of fields). */
export async function statInode(image: string, inode: number): Promise<string> {
  const lines: string[] = [];
  await runDebugfs(image, [`stat <${inode}>`], (line) => {
    lines.push(line);
    return lines.length < 200;
  });
  return lines.join("\n");
}

/**
 * Up to `maxBytes` of a file's content, by inode. debugfs `cat` is streamed and stopped once
 * enough has arrived, so a large file never leaves debugfs whole.
 */
export async function readInode(image: string, inode: number, maxBytes: number): Promise<Buffer> {
  const child = spawn(debugfsPath(), ["-R", `cat <${inode}>`, image], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  const chunks: Buffer[] = [];
  let kept = 0;
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      const part = chunk.subarray(0, maxBytes - kept);
      chunks.push(part);
      kept += part.length;
      if (kept >= maxBytes) break;
    }
  } finally {
    child.kill("SIGKILL");
    await exited;
  }
  return Buffer.concat(chunks);
}

/**
 * Runs requests through `debugfs -f -` (each echoed as `debugfs: REQUEST` before its output) and
 * hands over stdout line by line; `onLine` returns false to stop, which ends debugfs.
 */
async function runDebugfs(
  image: string,
  requests: readonly string[],
  onLine: (line: string) => boolean,
): Promise<void> {
  const child = spawn(debugfsPath(), ["-f", "-", image], { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("latin1");
  child.stderr.on("data", (chunk: string) => {
    if (stderr.length < 4096) stderr += chunk;
  });
  child.stdin.on("error", () => undefined);
  child.stdin.end(requests.map((request) => `${request}\n`).join(""));
  const exited = new Promise<number | null>((resolve) => child.once("close", resolve));
  // latin1 keeps every byte as one character; escaped names are ASCII anyway.
  const lines = createInterface({ input: child.stdout.setEncoding("latin1"), crlfDelay: Infinity });
  let stopped = false;
  try {
    for await (const line of lines) {
      if (!onLine(line)) {
        stopped = true;
        break;
      }
    }
  } finally {
    lines.close();
    if (stopped) child.kill("SIGKILL");
  }
  const code = await exited;
  if (!stopped && code !== 0) {
    throw new PyroError("EXEC_FAILED", `debugfs failed: ${stderr.trim().slice(0, 500)}`, {
      hint: "Check the workspace's disk.",
    });
  }
}

/** The bytes of a name as `ls -l` printed it (`\xHH` for each escaped byte). */
export function unescapeDebugfs(text: string): Buffer {
  const bytes: number[] = [];
  for (let index = 0; index < text.length; index += 1) {
    const hex =
      text.charCodeAt(index) === 0x5c ? /^[0-9a-f]{2}$/i.exec(text.slice(index + 2, index + 4)) : null;
    if (hex !== null && text[index + 1] === "x") {
      bytes.push(parseInt(hex[0], 16));
      index += 3;
    } else bytes.push(text.charCodeAt(index) & 0xff);
  }
  return Buffer.from(bytes);
}
