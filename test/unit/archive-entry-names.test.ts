import { describe, expect, it } from "vitest";
import { parseEntryName, relativeToExport } from "../../src/archive/entry-names.js";
import { SymlinkSet } from "../../src/archive/symlink-resolution.js";

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
    [Array.from({ length: 257 }, () => "d").join("/"), "name is nested more than 256 levels deep"],
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

describe("SymlinkSet.linkAbove", () => {
  it("finds a symlink among the proper ancestors only", () => {
    const links = setOf([["a/link", "x"]]);
    expect(links.linkAbove("a/link/passwd")).toBe("a/link");
    expect(links.linkAbove("a/link")).toBeUndefined();
    expect(links.linkAbove("a/linked/x")).toBeUndefined();
  });
});

describe("SymlinkSet.escapes", () => {
  it.each([
    ["a", "b", false],
    ["dir/a", "../b", false],
    ["dir/a", "../../b", true],
    ["a", "..", true],
    ["a", "/etc", true],
    ["a", ".", false],
    ["dir/sub/a", "../../x/../y", false],
    ["a", "missing/../..", true],
    ["a", "missing/deeper/../../b", false],
  ])("%s -> %s escapes: %s", (path, target, escapes) => {
    expect(setOf([[path, target]]).escapes(path)).toBe(escapes);
  });

  it("follows the tree's other symlinks", () => {
    // b -> . is harmless, but a -> b/.. then means the root's parent.
    const links = setOf([
      ["b", "."],
      ["a", "b/.."],
    ]);
    expect(links.escapes("b")).toBe(false);
    expect(links.escapes("a")).toBe(true);
  });

  it("follows a link into a directory and '..' from where it led", () => {
    const links = setOf([
      ["d/up", "../e/f"],
      ["x/l", "../d/up/../.."],
    ]);
    // x/l -> d/up/../.. = e/f/../.. = the root: inside.
    expect(links.escapes("x/l")).toBe(false);
    expect(
      setOf([
        ["d/up", "../e/f"],
        ["x/l", "../d/up/../../.."],
      ]).escapes("x/l"),
    ).toBe(true);
  });

  it("treats loops and chains longer than the kernel follows as escaping", () => {
    const loop = setOf([
      ["x", "y"],
      ["y", "x"],
    ]);
    expect(loop.escapes("x")).toBe(true);
    const chain = (length: number) =>
      setOf(
        Array.from({ length }, (_, index) => [`l${index}`, index === length - 1 ? "." : `l${index + 1}`]),
      );
    expect(chain(40).escapes("l0")).toBe(false);
    expect(chain(41).escapes("l0")).toBe(true);
    expect(chain(41).escapes("l1")).toBe(false);
  });

  it("stays linear on crafted chains: thousands of deep, linked targets", () => {
    const links: Array<[string, string]> = [["s", "."]];
    const deep = Array.from({ length: 1_300 }, () => "x").join("/");
    const throughLinks = Array.from({ length: 1_300 }, () => "s").join("/");
    for (let index = 0; index < 3_000; index += 1) {
      links.push([`${deep}/a${index}`, `${deep}/../b`]);
      links.push([`c${index}`, `${throughLinks}/${index > 0 ? `c${index - 1}` : "x"}`]);
    }
    const set = setOf(links);
    const started = performance.now();
    for (const [path] of links) set.escapes(path);
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});

function setOf(links: ReadonlyArray<readonly [string, string]>): SymlinkSet {
  const set = new SymlinkSet();
  for (const [path, target] of links) set.add(path, target);
  return set;
}
