import { execFileSync } from "node:child_process";
import { createServer } from "node:net";
import { lstat, mkdir, mkdtemp, readFile, readlink, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { indexTar, packDirectory, packFile } from "../../src/archive/index.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "pyro-archive-pack-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function collect(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

describe("packDirectory", () => {
  it("packs relative, portable names that GNU tar unpacks, keeping symlinks as links", async () => {
    const tree = join(dir, "tree");
    await mkdir(join(tree, "src/deep"), { recursive: true });
    await writeFile(join(tree, "src/deep/a.txt"), "hello");
    await writeFile(join(tree, "odd name\nü.txt"), "12345", { mode: 0o755 });
    await symlink("src/deep/a.txt", join(tree, "link"));
    const packed = await packDirectory(tree);
    expect(packed).toMatchObject({ entry_count: 5, bytes: 10, skipped: [] });
    const tar = await collect(packed.stream);

    const listing = execFileSync("tar", ["-tvf", "-"], { input: tar }).toString();
    expect(listing).not.toMatch(/\.\//);
    expect(listing).not.toMatch(/root/);
    const out = join(dir, "out");
    await mkdir(out);
    execFileSync("tar", ["-x", "--no-same-owner", "-C", out], { input: tar });
    expect(await readFile(join(out, "src/deep/a.txt"), "utf8")).toBe("hello");
    expect(await readFile(join(out, "odd name\nü.txt"), "utf8")).toBe("12345");
    expect((await lstat(join(out, "odd name\nü.txt"))).mode & 0o777).toBe(0o755);
    expect(await readlink(join(out, "link"))).toBe("src/deep/a.txt");
  });

  it("refuses a tree with a symlink leaving it, before streaming", async () => {
    await mkdir(join(dir, "tree/sub"), { recursive: true });
    await symlink("../../outside", join(dir, "tree/sub/escape"));
    await expect(packDirectory(join(dir, "tree"))).rejects.toMatchObject({ code: "ARCHIVE_UNSAFE" });
    await rm(join(dir, "tree/sub/escape"));
    await symlink("/etc/passwd", join(dir, "tree/abs"));
    await expect(packDirectory(join(dir, "tree"))).rejects.toMatchObject({ code: "ARCHIVE_UNSAFE" });
  });

  it("skips sockets and device nodes and reports them", async () => {
    const tree = join(dir, "tree");
    await mkdir(tree);
    await writeFile(join(tree, "a"), "a");
    execFileSync("mknod", [join(tree, "zero"), "c", "1", "5"]);
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(join(tree, "sock"), resolve));
    try {
      const packed = await packDirectory(tree);
      expect(packed.skipped.map((entry) => entry.path).sort()).toEqual(["sock", "zero"]);
      expect([...(await indexTar(packed.stream)).keys()]).toEqual(["a"]);
    } finally {
      server.close();
    }
  });
});

describe("packFile", () => {
  it("packs one regular file under the requested name", async () => {
    await writeFile(join(dir, "local.txt"), "content");
    const packed = await packFile(join(dir, "local.txt"), "renamed.txt");
    expect(packed).toMatchObject({ entry_count: 1, bytes: 7 });
    const index = await indexTar(packed.stream);
    expect([...index.keys()]).toEqual(["renamed.txt"]);
    expect(index.get("renamed.txt")?.text).toBe("content");
    await expect(packFile(dir, "x")).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(packFile(join(dir, "local.txt"), "../x")).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
  });
});
