import { execFileSync } from "node:child_process";
import {
  chmod,
  chown,
  link,
  lstat,
  lutimes,
  mkdir,
  mkdtemp,
  readdir,
  rm,
  symlink,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeRootImage } from "../../src/environments/image.js";
import { findExecutable } from "../../src/platform/find-executable.js";
import { sha256File } from "../../src/platform/file-digest.js";

const mkfsExt4 = findExecutable("mkfs.ext4");
const isRoot = process.getuid?.() === 0;
const EPOCH = 1_700_000_000;
const IDENTITY = "test-environment";

/** One operation that builds part of the tree; the two trees run the same list in opposite orders. */
type Step = (root: string) => Promise<void>;

const directories = ["etc", "usr", "usr/bin", "usr/lib", "var", "var/empty", "home", "home/app"];
const fileSteps: Step[] = [
  (root) => writeFile(join(root, "etc/hostname"), "pyro\n"),
  (root) =>
    writeFile(
      join(root, "etc/passwd"),
      "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n",
    ),
  (root) => writeFile(join(root, "usr/bin/tool"), Buffer.alloc(70_000, 7)),
  // Zero blocks in the middle: mkfs leaves them as holes whatever the source file's layout.
  (root) =>
    writeFile(
      join(root, "usr/lib/data.bin"),
      Buffer.concat([Buffer.from("head"), Buffer.alloc(50_000), Buffer.from("tail")]),
    ),
  (root) => writeFile(join(root, "var/empty/.keep"), ""),
  (root) => writeFile(join(root, "home/app/notes.txt"), "hello\n"),
  ...Array.from(
    { length: 150 },
    (_, index): Step =>
      (root) =>
        writeFile(join(root, "usr/lib", `lib${index}.so`), `library ${index}\n`),
  ),
];
const linkSteps: Step[] = [
  (root) => symlink("tool", join(root, "usr/bin/tool-alias")),
  (root) => symlink("/etc/hostname", join(root, "etc/name-link")),
  (root) => symlink(`../${"x".repeat(200)}`, join(root, "usr/long-symlink")),
  (root) => link(join(root, "usr/bin/tool"), join(root, "usr/bin/tool-hard")),
  (root) => link(join(root, "usr/bin/tool"), join(root, "home/app/tool-copy")),
];
const modeSteps: Step[] = [
  (root) => chmod(join(root, "usr/bin/tool"), 0o4755),
  (root) => chmod(join(root, "var/empty"), 0o1777),
  (root) => chmod(join(root, "etc/passwd"), 0o600),
  ...(isRoot
    ? [
        (root: string) => chown(join(root, "home/app"), 1000, 1000),
        (root: string) => chown(join(root, "home/app/notes.txt"), 1000, 1000),
      ]
    : []),
];

async function makeTree(root: string, order: "forward" | "reverse", stamp: number): Promise<void> {
  const ordered = <T>(items: T[]): T[] => (order === "forward" ? items : [...items].reverse());
  await mkdir(root);
  // Parents first either way; the sibling order is what differs.
  const byDepth = ordered(directories).sort((a, b) => a.split("/").length - b.split("/").length);
  for (const dir of byDepth) await mkdir(join(root, dir));
  for (const step of ordered(fileSteps)) await step(root);
  for (const step of ordered(linkSteps)) await step(root);
  for (const step of ordered(modeSteps)) await step(root);
  for (const path of await walk(root)) await lutimes(path, stamp, stamp);
}

async function walk(dir: string): Promise<string[]> {
  const paths = [dir];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) paths.push(...(await walk(path)));
    else paths.push(path);
  }
  return paths;
}

async function image(rootDir: string, name: string, overrides: { identity?: string } = {}): Promise<string> {
  const imagePath = join(work, `${name}.ext4`);
  await makeRootImage({
    mkfsExt4: mkfsExt4 ?? "",
    rootDir,
    imagePath,
    sizeMiB: 64,
    log: new PassThrough().resume(),
    epoch: EPOCH,
    identity: overrides.identity ?? IDENTITY,
  });
  return imagePath;
}

/** The order the directory lists its entries in (Node's readdir sorts them). */
function listingOrder(dir: string): string[] {
  return execFileSync("ls", ["-f", dir], { encoding: "utf8" }).split("\n");
}

function debugfs(imagePath: string, request: string): string {
  return execFileSync("debugfs", ["-R", request, imagePath], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  });
}

let work: string;
let shmWork: string;
let treeA: string;
let treeB: string;

describe.skipIf(mkfsExt4 === null)("reproducible root images", () => {
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "pyro-repro-"));
    // One tree on tmpfs (lists entries newest first), the other on the host disk (ext4: hash order).
    shmWork = await mkdtemp(join("/dev/shm", "pyro-repro-"));
    treeA = join(shmWork, "a");
    treeB = join(work, "b");
    await makeTree(treeA, "forward", 1_600_000_000);
    // A later second: the two trees' inode change times (which no tool can set) differ.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await makeTree(treeB, "reverse", 1_650_000_000);
  });

  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
    await rm(shmWork, { recursive: true, force: true });
  });

  it("the two trees really differ in listing order and in every time", async () => {
    expect(listingOrder(join(treeA, "usr/lib"))).not.toEqual(listingOrder(join(treeB, "usr/lib")));
    const [a, b] = await Promise.all([
      lstat(join(treeA, "etc/hostname")),
      lstat(join(treeB, "etc/hostname")),
    ]);
    expect(Math.floor(a.ctimeMs / 1000)).not.toBe(Math.floor(b.ctimeMs / 1000));
    expect(a.mtimeMs).not.toBe(b.mtimeMs);
  });

  it("gives byte-identical images for the same content", async () => {
    const [a, b] = [await image(treeA, "a"), await image(treeB, "b")];
    expect(await sha256File(a)).toBe(await sha256File(b));
    execFileSync("cmp", [a, b]);
    // And a consistent file system.
    execFileSync("e2fsck", ["-fn", a], { stdio: "ignore" });
  });

  it("stamps every time in the image with the epoch and keeps links, modes and owners", async () => {
    const imagePath = await image(treeA, "stamped");
    const header = execFileSync("dumpe2fs", ["-h", imagePath], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    const epochText = new Date(EPOCH * 1000).toUTCString().slice(0, 3);
    for (const field of ["Filesystem created", "Last write time", "Last checked"]) {
      expect(header).toMatch(new RegExp(`^${field}:.*${epochText}`, "m"));
    }
    expect(header).toMatch(
      /^Filesystem UUID:\s+[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/m,
    );
    const hex = `0x${EPOCH.toString(16)}:00000000`;
    for (const path of [
      "/",
      "/lost+found",
      "/etc/hostname",
      "/usr/bin/tool",
      "/usr/bin/tool-alias",
      "/home/app",
      "/usr/long-symlink",
    ]) {
      const stat = debugfs(imagePath, `stat ${path}`);
      for (const field of ["ctime", "atime", "mtime", "crtime"]) {
        expect(stat, `${field} of ${path}`).toMatch(new RegExp(`^\\s*${field}: ${hex}`, "m"));
      }
    }
    const tool = debugfs(imagePath, "stat /usr/bin/tool");
    expect(tool).toMatch(/Mode:\s+04755/);
    expect(tool).toMatch(/Links: 3/);
    expect(debugfs(imagePath, "stat /var/empty")).toMatch(/Mode:\s+01777/);
    if (isRoot) expect(debugfs(imagePath, "stat /home/app")).toMatch(/User:\s+1000\s+Group:\s+1000/);
    expect(debugfs(imagePath, "cat /usr/lib/lib42.so")).toBe("library 42\n");
  });

  it("gives a different image for a different identity or different content", async () => {
    const base = await sha256File(await image(treeA, "base"));
    expect(
      await sha256File(await image(treeA, "other-identity", { identity: "another-environment" })),
    ).not.toBe(base);
    await writeFile(join(treeB, "etc/hostname"), "pyrO\n");
    await lutimes(join(treeB, "etc/hostname"), 1, 1);
    expect(await sha256File(await image(treeB, "other-content"))).not.toBe(base);
  });

  it("leaves nothing behind when mkfs fails", async () => {
    await expect(image(join(work, "no-such-tree"), "failed")).rejects.toThrow(/mkfs\.ext4 exited/);
    expect((await readdir(work)).filter((name) => name.startsWith("failed"))).toEqual([]);
  });
});
