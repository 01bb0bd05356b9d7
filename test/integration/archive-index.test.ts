import { execFileSync } from "node:child_process";
import { createReadStream } from "node:fs";
import { link, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { diffIndexes, indexTar } from "../../src/archive/index.js";
import { chunked, rawTar } from "./archive-fixtures.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "pyro-archive-index-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("indexTar", () => {
  it("indexes a GNU tar of a tree by normalised path, keeping text only for small text files", async () => {
    const tree = join(dir, "tree");
    await mkdir(join(tree, "src"), { recursive: true });
    await writeFile(join(tree, "src/a.txt"), "héllo\n");
    await writeFile(join(tree, "binary.bin"), Buffer.from([1, 0, 2]));
    await writeFile(join(tree, "latin1.txt"), Buffer.from([0xe9, 0x0a]));
    await writeFile(join(tree, "big.txt"), "x".repeat(512 * 1024 + 1));
    await symlink("src/a.txt", join(tree, "link"));
    await link(join(tree, "src/a.txt"), join(tree, "hard.txt"));
    execFileSync("tar", ["-cf", join(dir, "t.tar"), "-C", tree, "."]);

    const index = await indexTar(createReadStream(join(dir, "t.tar")));
    expect([...index.keys()].sort()).toEqual([
      "big.txt",
      "binary.bin",
      "hard.txt",
      "latin1.txt",
      "link",
      "src",
      "src/a.txt",
    ]);
    expect(index.get("src")).toMatchObject({ type: "directory" });
    expect(index.get("src/a.txt")).toMatchObject({ type: "file", size: 7, is_text: true, text: "héllo\n" });
    expect(index.get("hard.txt")).toMatchObject({
      type: "file",
      text: "héllo\n",
      sha256: index.get("src/a.txt")?.sha256,
    });
    expect(index.get("binary.bin")).toMatchObject({ is_text: false, text: null });
    expect(index.get("latin1.txt")).toMatchObject({ is_text: false, text: null });
    expect(index.get("big.txt")).toMatchObject({ is_text: false, text: null, size: 512 * 1024 + 1 });
    expect(index.get("link")).toMatchObject({ type: "symlink", link_target: "src/a.txt" });
  });

  it("leaves out unsafe names and keeps text only where asked", async () => {
    const tar = rawTar([
      { name: "/abs", body: "x" },
      { name: "../up", body: "x" },
      { name: "keep.txt", body: "k" },
      { name: "drop.txt", body: "d" },
    ]);
    const index = await indexTar(chunked(tar, 100), { keepText: (path) => path === "keep.txt" });
    expect([...index.keys()]).toEqual(["keep.txt", "drop.txt"]);
    expect(index.get("keep.txt")?.text).toBe("k");
    expect(index.get("drop.txt")).toMatchObject({ is_text: true, text: null });
  });

  it("diffs a baseline tar against a changed tree end to end", async () => {
    const tree = join(dir, "tree");
    await mkdir(tree);
    await writeFile(join(tree, "a.txt"), "one\n");
    await writeFile(join(tree, "gone.txt"), "bye\n");
    execFileSync("tar", ["-cf", join(dir, "baseline.tar"), "-C", tree, "."]);
    await writeFile(join(tree, "a.txt"), "two\n");
    await rm(join(tree, "gone.txt"));
    await writeFile(join(tree, "new file.txt"), "hi\n");
    const current = execFileSync("tar", ["-c", "-C", tree, "."]);

    const diff = diffIndexes(
      await indexTar(createReadStream(join(dir, "baseline.tar"))),
      await indexTar(chunked(current)),
    );
    expect(diff.summary).toEqual({
      total: 3,
      added: 1,
      modified: 1,
      deleted: 1,
      type_changed: 0,
      text_patched: 3,
      non_text: 0,
    });
    expect(diff.patch).toContain("+++ b/new file.txt\n@@ -0,0 +1,1 @@\n+hi\n");
  });
});
