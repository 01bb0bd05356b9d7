import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { archiveStream, inspectSource, validateArchive } from "../../src/archive/index.js";
import { rawTar, type RawEntry } from "./archive-fixtures.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "pyro-archive-validate-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function archiveOf(entries: RawEntry[], name = "seed.tar"): Promise<string> {
  const path = join(dir, name);
  const tar = rawTar(entries);
  await writeFile(path, name.endsWith(".tar") ? tar : gzipSync(tar));
  return path;
}

describe("inspectSource", () => {
  it("tells directories, files and archives apart", async () => {
    await writeFile(join(dir, "notes.gz"), gzipSync("x"));
    await writeFile(join(dir, "seed.TGZ"), gzipSync(rawTar([])));
    expect(await inspectSource(dir)).toMatchObject({ kind: "directory" });
    expect(await inspectSource(join(dir, "notes.gz"))).toEqual({ kind: "file", name: "notes.gz" });
    expect(await inspectSource(join(dir, "seed.TGZ"))).toEqual({ kind: "archive", name: "seed.TGZ" });
    await expect(inspectSource(join(dir, "missing"))).rejects.toMatchObject({ code: "FILE_NOT_FOUND" });
  });
});

describe("validateArchive", () => {
  it("accepts a tar made by the system tar, plain or gzipped, and counts it", async () => {
    const tree = join(dir, "tree");
    await mkdir(join(tree, "src"), { recursive: true });
    await writeFile(join(tree, "src/a.txt"), "hello");
    await writeFile(join(tree, "with space ü.txt"), "12345");
    await symlink("src/a.txt", join(tree, "link"));
    execFileSync("tar", ["-czf", join(dir, "seed.tgz"), "-C", tree, "."]);
    execFileSync("tar", ["-cf", join(dir, "seed.tar"), "-C", tree, "src", "link", "with space ü.txt"]);
    expect(await validateArchive(join(dir, "seed.tgz"))).toEqual({ entry_count: 5, bytes: 10 });
    expect(await validateArchive(join(dir, "seed.tar"))).toEqual({ entry_count: 4, bytes: 10 });
  });

  it("detects gzip by content whatever the name says, and streams the decompressed tar", async () => {
    const tar = rawTar([{ name: "a.txt", body: "x" }]);
    await writeFile(join(dir, "really-gzip.tar"), gzipSync(tar));
    expect(await validateArchive(join(dir, "really-gzip.tar"))).toEqual({ entry_count: 1, bytes: 1 });
    const chunks: Buffer[] = [];
    for await (const chunk of archiveStream(join(dir, "really-gzip.tar"))) chunks.push(chunk);
    expect(Buffer.concat(chunks).equals(tar)).toBe(true);
  });

  it.each<[string, RawEntry[], RegExp]>([
    ["an absolute name", [{ name: "/etc/cron.d/x", body: "x" }], /"\/etc\/cron.d\/x": absolute name/],
    ["a .. name", [{ name: "a/../../x", body: "x" }], /'\.\.' segment/],
    ["a leading ../", [{ name: "../x", body: "x" }], /'\.\.' segment/],
    [
      "an absolute symlink",
      [{ name: "l", type: "SymbolicLink", linkpath: "/etc" }],
      /target "\/etc" is absolute/,
    ],
    [
      "an escaping relative symlink",
      [{ name: "d/l", type: "SymbolicLink", linkpath: "../../x" }],
      /leaves the archive/,
    ],
    [
      "a symlink chain that escapes",
      [
        { name: "b", type: "SymbolicLink", linkpath: "." },
        { name: "a", type: "SymbolicLink", linkpath: "b/.." },
      ],
      /"a": its symlink target "b\/\.\." leaves the archive/,
    ],
    [
      "an escaping hard link",
      [{ name: "h", type: "Link", linkpath: "../../etc/passwd" }],
      /hard-link target leaves/,
    ],
    [
      "an absolute hard link",
      [{ name: "h", type: "Link", linkpath: "/etc/passwd" }],
      /hard-link target leaves/,
    ],
    [
      "an entry written through a symlink",
      [
        { name: "l", type: "SymbolicLink", linkpath: "sub" },
        { name: "l/x", body: "x" },
      ],
      /stored below the symlink "l"/,
    ],
    [
      "a character device",
      [{ name: "null", type: "CharacterDevice" }],
      /CharacterDevice entries are not allowed/,
    ],
    ["a block device", [{ name: "sda", type: "BlockDevice" }], /BlockDevice entries are not allowed/],
    ["a FIFO", [{ name: "pipe", type: "FIFO" }], /FIFO entries are not allowed/],
    ["a name over 4096 bytes", [{ name: `${"d/".repeat(2100)}x`, body: "x" }], /longer than 4096 bytes/],
  ])("refuses %s before writing anything", async (_, entries, reason) => {
    const path = await archiveOf([{ name: "ok.txt", body: "fine" }, ...entries], "bad.tar.gz");
    const error = await validateArchive(path).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: "ARCHIVE_UNSAFE" });
    expect((error as Error).message).toMatch(reason);
  });

  it("refuses a device node archived by the system tar", async () => {
    const tree = join(dir, "tree");
    await mkdir(tree);
    execFileSync("mknod", [join(tree, "zero"), "c", "1", "5"]);
    execFileSync("tar", ["-cf", join(dir, "dev.tar"), "-C", tree, "zero"]);
    await expect(validateArchive(join(dir, "dev.tar"))).rejects.toMatchObject({ code: "ARCHIVE_UNSAFE" });
  });

  it("refuses what is not a tar archive", async () => {
    await writeFile(join(dir, "junk.tar"), Buffer.alloc(2048, 7));
    await expect(validateArchive(join(dir, "junk.tar"))).rejects.toMatchObject({ code: "ARCHIVE_UNSAFE" });
    const truncated = rawTar([{ name: "a", body: "x".repeat(2000) }]).subarray(0, 1024);
    await writeFile(join(dir, "truncated.tar"), truncated);
    await expect(validateArchive(join(dir, "truncated.tar"))).rejects.toMatchObject({
      code: "ARCHIVE_UNSAFE",
    });
  });
});
