import { describe, expect, it } from "vitest";
import { PyroError } from "../../src/errors/index.js";
import { planPatch, type ReadCurrent } from "../../src/sandbox/workspace/patch.js";
import { epochHeader, stripName } from "../../src/sandbox/workspace/patch-strip.js";

function files(entries: Record<string, string>): ReadCurrent {
  const map = new Map(Object.entries(entries));
  return async (path) => map.get(path) ?? null;
}

const WORKSPACE = { "src/app.txt": "v1\n", "gone.txt": "gone\n" };

// What `diff -ruN dA dB` prints for a change, a new file and a deleted file.
const DIFF_RUN = `diff -ruN dA/gone.txt dB/gone.txt
--- dA/gone.txt\t2026-12-02 14:11:42.227257150 +0000
+++ dB/gone.txt\t1970-01-01 00:00:00.000000000 +0000
@@ -1 +0,0 @@
-gone
diff -ruN dA/new.txt dB/new.txt
--- dA/new.txt\t1970-01-01 00:00:00.000000000 +0000
+++ dB/new.txt\t2026-12-02 14:11:42.227257150 +0000
@@ -0,0 +1 @@
+new
diff -ruN dA/src/app.txt dB/src/app.txt
--- dA/src/app.txt\t2026-12-02 14:11:42.227257150 +0000
+++ dB/src/app.txt\t2026-12-02 14:11:42.227257150 +0000
@@ -1 +1 @@
-v1
+v2
`;

const EXPECTED = [
  { path: "gone.txt", action: "delete" },
  { path: "new.txt", action: "add", content: "new\n" },
  { path: "src/app.txt", action: "modify", content: "v2\n" },
];

describe("patch paths and strip levels", () => {
  it("strips like patch -pN and recognises diff -N's epoch time stamps", () => {
    expect(stripName("a/src/x", 1)).toBe("src/x");
    expect(stripName("/abs/x", 1)).toBe("abs/x");
    expect(stripName("x", 1)).toBeNull();
    expect(epochHeader("1970-01-01 00:00:00.000000000 +0000")).toBe(true);
    expect(epochHeader("1969-12-31 19:00:00.000000000 -0500")).toBe(true);
    expect(epochHeader("2026-12-02 14:11:42.227257150 +0000")).toBe(false);
    expect(epochHeader(undefined)).toBe(false);
  });

  it("applies diff -ruN dirA dirB output, detecting strip 1", async () => {
    const plan = await planPatch(DIFF_RUN, files(WORKSPACE));
    expect(plan.changes).toEqual(EXPECTED);
    expect(plan).toMatchObject({ strip: 1, strip_detected: true });
  });

  it("applies bare relative paths (strip 0), git a/ b/ paths (strip 1) and git --no-prefix (strip 0)", async () => {
    const bare = "--- src/app.txt\n+++ src/app.txt\n@@ -1 +1 @@\n-v1\n+v2\n";
    expect(await planPatch(bare, files(WORKSPACE))).toMatchObject({ strip: 0, strip_detected: true });
    const git =
      "diff --git a/src/app.txt b/src/app.txt\n--- a/src/app.txt\n+++ b/src/app.txt\n@@ -1 +1 @@\n-v1\n+v2\n";
    expect(await planPatch(git, files(WORKSPACE))).toMatchObject({ strip: 1, strip_detected: true });
    const noPrefix =
      "diff --git src/app.txt src/app.txt\n--- src/app.txt\n+++ src/app.txt\n@@ -1 +1 @@\n-v1\n+v2\n";
    const plan = await planPatch(noPrefix, files(WORKSPACE));
    expect(plan).toMatchObject({ strip: 0, strip_detected: true });
    expect(plan.changes).toEqual([{ path: "src/app.txt", action: "modify", content: "v2\n" }]);
  });

  it("finds a deeper level when every path agrees on it, and takes a given one as it is", async () => {
    const deep = "--- home/me/proj/src/app.txt\n+++ home/me/proj/src/app.txt\n@@ -1 +1 @@\n-v1\n+v2\n";
    expect(await planPatch(deep, files(WORKSPACE))).toMatchObject({ strip: 3, strip_detected: true });
    expect(await planPatch(deep, files(WORKSPACE), 3)).toMatchObject({ strip: 3, strip_detected: false });
    await expect(planPatch(deep, files(WORKSPACE), 2)).rejects.toMatchObject({ code: "PATCH_FAILED" });
  });

  it("says which paths it looked for when no level matches", async () => {
    const stray = "--- a/lib/x.txt\n+++ b/lib/x.txt\n@@ -1 +1 @@\n-v1\n+v2\n";
    const error = (await planPatch(stray, files(WORKSPACE)).catch((e: unknown) => e)) as PyroError;
    expect(error).toBeInstanceOf(PyroError);
    expect(error.code).toBe("PATCH_FAILED");
    expect(error.message).toContain(
      "looked for: /workspace/lib/x.txt, /workspace/a/lib/x.txt, /workspace/x.txt",
    );
    expect(error.details).toMatchObject({ file: "lib/x.txt" });
  });
});
