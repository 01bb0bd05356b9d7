import { describe, expect, it } from "vitest";
import { parseEntryName, relativeToExport, symlinkAncestor } from "../../src/core/archive/entry-names.js";
import { symlinkEscapes } from "../../src/core/archive/symlink-resolution.js";

describe("parseEntryName", () => {
  it.each([
    ["a.txt", "a.txt"],
    ["./a.txt", "a.txt"],
    ["src/", "src"],
    ["./src//lib/./x.ts", "src/lib/x.ts"],
    [".", ""],
    ["./", ""],
    ["with space/new\nline/ünï©ode", "with space/new\nline/ünï©ode"],
  ])("normalises %j to %j", (raw, path) => {
    expect(parseEntryName(raw, 4096)).toEqual({ ok: true, path });
  });

  it.each([
    ["/etc/passwd", "absolute name"],
    ["../x", "name contains a '..' segment"],
    ["a/../../x", "name contains a '..' segment"],
    ["a/..", "name contains a '..' segment"],
    ["a\0b", "name contains a NUL byte"],
    ["x".repeat(4097), "name is longer than 4096 bytes"],
    [`a/${"y".repeat(256)}`, "a path component is longer than 255 bytes"],
  ])("refuses %j", (raw, reason) => {
    expect(parseEntryName(raw, 4096)).toEqual({ ok: false, reason });
  });
});

describe("relativeToExport", () => {
  it("maps names onto the exported path", () => {
    expect(relativeToExport("src", "src")).toBe("");
    expect(relativeToExport("src/a/b.txt", "src")).toBe("a/b.txt");
    expect(relativeToExport("srcx/a", "src")).toBeUndefined();
    expect(relativeToExport("other", "src")).toBeUndefined();
    expect(relativeToExport("anything/here", "")).toBe("anything/here");
  });
});

describe("symlinkAncestor", () => {
  it("finds a symlink among the proper ancestors only", () => {
    const links = new Map([["a/link", "x"]]);
    expect(symlinkAncestor("a/link/passwd", links)).toBe("a/link");
    expect(symlinkAncestor("a/link", links)).toBeUndefined();
    expect(symlinkAncestor("a/linked/x", links)).toBeUndefined();
  });
});

describe("symlinkEscapes", () => {
  const none = new Map<string, string>();
  it.each([
    ["a", "b", false],
    ["dir/a", "../b", false],
    ["dir/a", "../../b", true],
    ["a", "..", true],
    ["a", "/etc", true],
    ["a", ".", false],
    ["dir/sub/a", "../../x/../y", false],
  ])("%s -> %s escapes: %s", (path, target, escapes) => {
    expect(symlinkEscapes(path, target, none)).toBe(escapes);
  });

  it("follows the tree's other symlinks", () => {
    // b -> . is harmless, but a -> b/.. then means the root's parent.
    const links = new Map([
      ["b", "."],
      ["a", "b/.."],
    ]);
    expect(symlinkEscapes("b", ".", links)).toBe(false);
    expect(symlinkEscapes("a", "b/..", links)).toBe(true);
  });

  it("treats loops as escaping", () => {
    const links = new Map([
      ["x", "y"],
      ["y", "x"],
    ]);
    expect(symlinkEscapes("x", "y", links)).toBe(true);
  });
});
