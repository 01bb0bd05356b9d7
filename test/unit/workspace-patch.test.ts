import { describe, expect, it } from "vitest";
import { PyroError } from "../../src/errors/index.js";
import { planPatch, type ReadCurrent } from "../../src/sandbox/workspace/patch.js";

function files(entries: Record<string, string>): ReadCurrent {
  const map = new Map(Object.entries(entries));
  return async (path) => map.get(path) ?? null;
}

async function failure(promise: Promise<unknown>): Promise<PyroError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(PyroError);
    return error as PyroError;
  }
  throw new Error("expected the patch to fail");
}

const lines = (count: number): string => Array.from({ length: count }, (_, i) => `line ${i + 1}\n`).join("");

const GIT_PATCH = `diff --git a/src/app.py b/src/app.py
index 83db48f..bf269f4 100644
--- a/src/app.py
+++ b/src/app.py
@@ -1,3 +1,3 @@
 import os
-print("hello")
+print("hello, world")
 exit(0)
diff --git a/docs/new.md b/docs/new.md
new file mode 100644
index 0000000..3b18e51
--- /dev/null
+++ b/docs/new.md
@@ -0,0 +1,2 @@
+# New
+text
diff --git a/old.txt b/old.txt
deleted file mode 100644
index 3b18e51..0000000
--- a/old.txt
+++ /dev/null
@@ -1,2 +0,0 @@
-bye
-now
`;

const APP = 'import os\nprint("hello")\nexit(0)\n';

describe("planPatch", () => {
  it("plans a git patch that modifies, adds and deletes", async () => {
    const plan = await planPatch(GIT_PATCH, files({ "src/app.py": APP, "old.txt": "bye\nnow\n" }));
    expect(plan.changes).toEqual([
      { path: "src/app.py", action: "modify", content: 'import os\nprint("hello, world")\nexit(0)\n' },
      { path: "docs/new.md", action: "add", content: "# New\ntext\n" },
      { path: "old.txt", action: "delete" },
    ]);
    expect(plan.summary).toEqual({ total: 3, added: 1, modified: 1, deleted: 1 });
  });

  it("plans a plain diff without prefixes, with timestamps in the headers", async () => {
    const patch = [
      "--- notes.txt\t2024-01-01 10:00:00.000000000 +0000",
      "+++ notes.txt\t2024-01-02 10:00:00.000000000 +0000",
      "@@ -1,2 +1,2 @@",
      " keep",
      "-old",
      "+new",
      "",
    ].join("\n");
    const plan = await planPatch(patch, files({ "notes.txt": "keep\nold\n" }));
    expect(plan.changes).toEqual([{ path: "notes.txt", action: "modify", content: "keep\nnew\n" }]);
  });

  it("strips a/ and b/ from a plain diff only when both sides carry them", async () => {
    const prefixed = "--- a/x.txt\n+++ b/x.txt\n@@ -1 +1 @@\n-1\n+2\n";
    expect((await planPatch(prefixed, files({ "x.txt": "1\n" }))).changes[0]?.path).toBe("x.txt");
    const literal = "--- a/x.txt\n+++ a/x.txt\n@@ -1 +1 @@\n-1\n+2\n";
    expect((await planPatch(literal, files({ "a/x.txt": "1\n" }))).changes[0]?.path).toBe("a/x.txt");
  });

  it("plans a plain diff that adds a file from /dev/null", async () => {
    const patch = "--- /dev/null\n+++ b/dir/sub/file.txt\n@@ -0,0 +1 @@\n+content\n";
    const plan = await planPatch(patch, files({}));
    expect(plan.changes).toEqual([{ path: "dir/sub/file.txt", action: "add", content: "content\n" }]);
  });

  it("applies several hunks in one file and honours a missing final newline", async () => {
    const source = lines(20);
    const patch = [
      "--- a/f.txt",
      "+++ b/f.txt",
      "@@ -2,3 +2,3 @@",
      " line 2",
      "-line 3",
      "+LINE 3",
      " line 4",
      "@@ -18,3 +18,3 @@",
      " line 18",
      " line 19",
      "-line 20",
      "+LINE 20",
      "\\ No newline at end of file",
      "",
    ].join("\n");
    const plan = await planPatch(patch, files({ "f.txt": source }));
    const expected = source.replace("line 3\n", "LINE 3\n").replace("line 20\n", "LINE 20");
    expect(plan.changes[0]?.content).toBe(expected);
  });

  it("names the file and hunk that does not apply, and returns nothing", async () => {
    const patch = [
      "--- a/first.txt",
      "+++ b/first.txt",
      "@@ -1 +1 @@",
      "-a",
      "+A",
      "--- a/src/app.py",
      "+++ b/src/app.py",
      "@@ -1,3 +1,3 @@",
      " line 1",
      "-line 2",
      "+LINE 2",
      " line 3",
      "@@ -10,3 +10,4 @@",
      " line 10",
      "-not what is there",
      "+changed",
      "+added",
      " line 12",
      "",
    ].join("\n");
    const error = await failure(planPatch(patch, files({ "first.txt": "a\n", "src/app.py": lines(15) })));
    expect(error.code).toBe("PATCH_FAILED");
    expect(error.message).toBe("hunk 2 (@@ -10,3 +10,4 @@) of src/app.py does not apply");
    expect(error.details).toMatchObject({ file: "src/app.py", hunk: 2 });
  });

  it("refuses to add a file that exists and to change one that does not", async () => {
    const add = "--- /dev/null\n+++ b/x.txt\n@@ -0,0 +1 @@\n+x\n";
    const exists = await failure(planPatch(add, files({ "x.txt": "old\n" })));
    expect(exists.code).toBe("PATCH_FAILED");
    expect(exists.message).toMatch(/x\.txt already exists/);

    const modify = "--- a/gone.txt\n+++ b/gone.txt\n@@ -1 +1 @@\n-a\n+b\n";
    const missing = await failure(planPatch(modify, files({})));
    expect(missing.code).toBe("PATCH_FAILED");
    expect(missing.details).toMatchObject({ file: "gone.txt" });
  });

  it("deletes only a file whose content matches the patch", async () => {
    const patch = "--- a/old.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-bye\n";
    expect((await planPatch(patch, files({ "old.txt": "bye\n" }))).summary.deleted).toBe(1);

    const changed = await failure(planPatch(patch, files({ "old.txt": "bye\nmore\n" })));
    expect(changed.code).toBe("PATCH_FAILED");
    expect(changed.details).toMatchObject({ file: "old.txt" });
  });

  it("handles git's empty-file creation and deletion, which have no hunks", async () => {
    const patch = [
      "diff --git a/empty b/empty",
      "new file mode 100644",
      "index 0000000..e69de29",
      "diff --git a/blank b/blank",
      "deleted file mode 100644",
      "index e69de29..0000000",
      "",
    ].join("\n");
    const plan = await planPatch(patch, files({ blank: "" }));
    expect(plan.changes).toEqual([
      { path: "empty", action: "add", content: "" },
      { path: "blank", action: "delete" },
    ]);
  });

  it("treats a git rename as a delete and an add", async () => {
    const patch = "diff --git a/x b/y\nsimilarity index 100%\nrename from x\nrename to y\n";
    const plan = await planPatch(patch, files({ x: "same\n" }));
    expect(plan.changes).toEqual([
      { path: "x", action: "delete" },
      { path: "y", action: "add", content: "same\n" },
    ]);
    expect(plan.summary).toEqual({ total: 2, added: 1, modified: 0, deleted: 1 });
  });

  it("lets a later section build on an earlier one for the same file", async () => {
    const patch = [
      "--- a/f",
      "+++ b/f",
      "@@ -1 +1 @@",
      "-1",
      "+2",
      "--- a/f",
      "+++ b/f",
      "@@ -1 +1 @@",
      "-2",
      "+3",
      "",
    ].join("\n");
    const plan = await planPatch(patch, files({ f: "1\n" }));
    expect(plan.changes).toEqual([{ path: "f", action: "modify", content: "3\n" }]);
  });

  it("refuses patches whose paths leave the workspace", async () => {
    const patch = "--- a/../../etc/passwd\n+++ b/../../etc/passwd\n@@ -1 +1 @@\n-a\n+b\n";
    expect((await failure(planPatch(patch, files({})))).code).toBe("PATH_OUTSIDE_WORKSPACE");
    const absolute = "--- /etc/passwd\n+++ /etc/passwd\n@@ -1 +1 @@\n-a\n+b\n";
    expect((await failure(planPatch(absolute, files({})))).code).toBe("PATH_OUTSIDE_WORKSPACE");
  });

  it("refuses binary patches", async () => {
    const patch =
      "diff --git a/img.png b/img.png\nindex 1..2 100644\nBinary files a/img.png and b/img.png differ\n";
    const error = await failure(planPatch(patch, files({ "img.png": "x" })));
    expect(error.code).toBe("PATCH_FAILED");
    expect(error.message).toMatch(/binary/);
  });

  it.each([
    ["empty", ""],
    ["blank", "  \n\n"],
    ["prose", "this is not a diff\nat all\n"],
    ["a malformed hunk", "--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n a\n"],
  ])("refuses a patch that is %s", async (_name, patch) => {
    expect((await failure(planPatch(patch, files({ x: "a\nb\n" })))).code).toBe("INVALID_ARGUMENT");
  });

  it("reads each file at most once", async () => {
    const reads: string[] = [];
    const patch = "--- a/f\n+++ b/f\n@@ -1 +1 @@\n-1\n+2\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n-2\n+3\n";
    await planPatch(patch, async (path) => {
      reads.push(path);
      return "1\n";
    });
    expect(reads).toEqual(["f"]);
  });
});
