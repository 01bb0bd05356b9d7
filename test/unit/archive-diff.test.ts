import { createHash } from "node:crypto";
import { parsePatch } from "diff";
import { describe, expect, it } from "vitest";
import { diffIndexes } from "../../src/archive/diff-indexes.js";
import type { IndexEntry } from "../../src/archive/index-tar.js";
import { quotePath } from "../../src/archive/patch-format.js";

function file(content: string | Buffer, mode = 0o644): IndexEntry {
  const bytes = Buffer.from(content);
  const isText = typeof content === "string";
  return {
    type: "file",
    mode,
    size: bytes.length,
    sha256: createHash("sha256").update(bytes).digest("hex"),
    link_target: null,
    is_text: isText,
    text: isText ? content : null,
  };
}
const directory: IndexEntry = {
  type: "directory",
  mode: 0o755,
  size: 0,
  sha256: null,
  link_target: null,
  is_text: false,
  text: null,
};
function symlink(target: string): IndexEntry {
  return { ...directory, type: "symlink", mode: 0o777, link_target: target };
}
const index = (entries: Record<string, IndexEntry>) => new Map(Object.entries(entries));

describe("diffIndexes", () => {
  it("reports nothing for identical trees", () => {
    const tree = index({ src: directory, "src/a.ts": file("a\n"), link: symlink("src") });
    expect(diffIndexes(tree, tree)).toEqual({
      summary: { total: 0, added: 0, modified: 0, deleted: 0, type_changed: 0, text_patched: 0, non_text: 0 },
      changes: [],
      patch: "",
      patch_truncated: false,
    });
  });

  it("classifies added, modified, deleted and type-changed paths, sorted by path", () => {
    const baseline = index({
      "a.txt": file("one\ntwo\n"),
      "gone.txt": file("bye\n"),
      "was-file": file("x\n"),
      "bin.dat": file(Buffer.from([0, 1, 2])),
      link: symlink("a.txt"),
      dir: directory,
    });
    const current = index({
      "a.txt": file("one\n2\n"),
      "new.txt": file("hello\n"),
      "was-file": directory,
      "bin.dat": file(Buffer.from([0, 1, 3])),
      link: symlink("new.txt"),
      "empty-dir": directory,
    });
    const diff = diffIndexes(baseline, current);
    expect(diff.changes).toEqual([
      { path: "a.txt", status: "modified", text: true },
      { path: "bin.dat", status: "modified", text: false },
      { path: "gone.txt", status: "deleted", text: true },
      { path: "link", status: "modified", text: false },
      { path: "new.txt", status: "added", text: true },
      { path: "was-file", status: "type_changed", text: true },
    ]);
    expect(diff.summary).toEqual({
      total: 6,
      added: 1,
      modified: 3,
      deleted: 1,
      type_changed: 1,
      text_patched: 4,
      non_text: 1,
    });
  });

  it("writes a git-style patch that jsdiff parses back", () => {
    const diff = diffIndexes(
      index({ "a.txt": file("one\ntwo\n"), "old.txt": file("bye\n") }),
      index({ "a.txt": file("one\n2\n"), "new.txt": file("hi") }),
    );
    expect(diff.patch).toBe(
      [
        "diff --git a/a.txt b/a.txt",
        "--- a/a.txt",
        "+++ b/a.txt",
        "@@ -1,2 +1,2 @@",
        " one",
        "-two",
        "+2",
        "diff --git a/new.txt b/new.txt",
        "new file mode 100644",
        "--- /dev/null",
        "+++ b/new.txt",
        "@@ -0,0 +1,1 @@",
        "+hi",
        "\\ No newline at end of file",
        "diff --git a/old.txt b/old.txt",
        "deleted file mode 100644",
        "--- a/old.txt",
        "+++ /dev/null",
        "@@ -1,1 +0,0 @@",
        "-bye",
        "",
      ].join("\n"),
    );
    expect(parsePatch(diff.patch).map((patch) => patch.newFileName)).toEqual([
      "b/a.txt",
      "b/new.txt",
      "/dev/null",
    ]);
  });

  it("counts an executable-bit change as modified and shows it as a mode change", () => {
    const diff = diffIndexes(
      index({ "run.sh": file("echo\n", 0o644) }),
      index({ "run.sh": file("echo\n", 0o755) }),
    );
    expect(diff.changes).toEqual([{ path: "run.sh", status: "modified", text: false }]);
    expect(diff.patch).toBe("diff --git a/run.sh b/run.sh\nold mode 100644\nnew mode 100755\n");
    const groupOnly = diffIndexes(index({ f: file("x", 0o644) }), index({ f: file("x", 0o664) }));
    expect(groupOnly.summary.total).toBe(0);
  });

  it("shows binary changes without content", () => {
    const diff = diffIndexes(index({}), index({ "img.png": file(Buffer.from([0x89, 0, 0])) }));
    expect(diff.summary).toMatchObject({ added: 1, text_patched: 0, non_text: 1 });
    expect(diff.patch).toBe(
      "diff --git a/img.png b/img.png\nnew file mode 100644\nBinary files /dev/null and b/img.png differ\n",
    );
  });

  it("ignores directories unless a path changed type", () => {
    const diff = diffIndexes(index({ old: directory, "old/a": file("a\n") }), index({ fresh: directory }));
    expect(diff.changes).toEqual([{ path: "old/a", status: "deleted", text: true }]);
  });

  it("quotes odd names in patch headers so they cannot forge patch lines", () => {
    const name = "evil\n+++ b/etc/passwd";
    const diff = diffIndexes(index({}), index({ [name]: file("x\n") }));
    expect(diff.patch.split("\n")[0]).toBe(
      'diff --git "a/evil\\n+++ b/etc/passwd" "b/evil\\n+++ b/etc/passwd"',
    );
    expect(quotePath("a/ü")).toBe('"a/\\303\\274"');
    expect(quotePath("a/plain name")).toBe("a/plain name");
  });

  it("caps the patch at whole stanzas and says so", () => {
    const current = index(
      Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`f${i}`, file("x\n".repeat(100))])),
    );
    const diff = diffIndexes(index({}), current, { maxPatchBytes: 2000 });
    expect(diff.patch_truncated).toBe(true);
    expect(Buffer.byteLength(diff.patch)).toBeLessThanOrEqual(2000);
    expect(diff.patch.endsWith("+x\n")).toBe(true);
    expect(diff.summary.added).toBe(20);
  });

  it("marks the patch incomplete when a text was not kept in the index", () => {
    const withoutText = { ...file("a\n"), text: null };
    const diff = diffIndexes(index({}), index({ a: withoutText }));
    expect(diff.summary.text_patched).toBe(1);
    expect(diff.patch).toBe("");
    expect(diff.patch_truncated).toBe(true);
  });

  it("replaces a wholly rewritten large file in one hunk instead of searching for a minimal diff", () => {
    const before = Array.from({ length: 12_000 }, (_, i) => `old ${i}`).join("\n");
    const after = Array.from({ length: 12_000 }, (_, i) => `new ${i}`).join("\n");
    const started = performance.now();
    const diff = diffIndexes(index({ big: file(before) }), index({ big: file(after) }), {
      maxPatchBytes: 10_000_000,
    });
    expect(performance.now() - started).toBeLessThan(2000);
    const [patch] = parsePatch(diff.patch);
    expect(patch?.hunks).toHaveLength(1);
    expect(patch?.hunks[0]).toMatchObject({ oldStart: 1, oldLines: 12_000, newStart: 1, newLines: 12_000 });
  });

  it("diffs 10k files with 100 changes quickly", () => {
    const baseline = new Map<string, IndexEntry>();
    const current = new Map<string, IndexEntry>();
    for (let i = 0; i < 10_000; i++) {
      const content = `file ${i}\n${"line\n".repeat(200)}`;
      baseline.set(`dir${i % 100}/f${i}.txt`, file(content));
      current.set(`dir${i % 100}/f${i}.txt`, i % 100 === 0 ? file(`${content}changed\n`) : file(content));
    }
    const started = performance.now();
    const diff = diffIndexes(baseline, current);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(diff.summary).toMatchObject({ total: 100, modified: 100, text_patched: 100 });
  });
});
