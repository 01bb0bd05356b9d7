import { execFileSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseGitConfig } from "../../src/archive/git-config.js";
import { neutraliseGitMetadata } from "../../src/archive/git-metadata.js";

const root = mkdtempSync(join(tmpdir(), "pyro-t-gitmeta-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const git = (cwd: string, ...args: string[]): string =>
  execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });

/** A repository whose config and hooks each leave a marker file when git runs them. */
function hostileRepo(name: string): { dir: string; markers: string } {
  const dir = join(root, name);
  const markers = join(root, `${name}-markers`);
  mkdirSync(markers, { recursive: true });
  mkdirSync(dir);
  git(dir, "init", "-q", "-b", "main");
  writeFileSync(join(dir, "a.txt"), "hello\n");
  writeFileSync(join(dir, ".gitattributes"), "*.txt filter=evil diff=evil\n");
  git(dir, "add", ".");
  git(dir, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "one");
  const touch = (what: string): string => `touch ${join(markers, what)}`;
  writeFileSync(
    join(dir, ".git", "config"),
    [
      "[core]",
      "\trepositoryformatversion = 0",
      "\tbare = false",
      `\tfsmonitor = "${touch("fsmonitor")}; false"`,
      `\tpager = ${touch("pager")}`,
      "[core] hooksPath = .git/hooks",
      `[filter "evil"]\n\tclean = ${touch("clean")}; cat\n\tsmudge = cat`,
      `[diff "evil"]\n\ttextconv = "sh -c '${touch("textconv")}; cat \\"$0\\"'"`,
      `[alias]\n\tst = "!${touch("alias")}"`,
      '[remote "origin"]\n\turl = https://example.invalid/repo.git\n\tuploadpack = evil',
      `[include]\n\tpath = ../evil.cfg`,
      "",
    ].join("\n"),
  );
  writeFileSync(join(dir, "evil.cfg"), `[core]\n\teditor = ${touch("editor")}\n`);
  writeFileSync(join(dir, ".git", "hooks", "post-checkout"), `#!/bin/sh\n${touch("hook")}\n`, {
    mode: 0o755,
  });
  return { dir, markers };
}

function runEverything(dir: string): void {
  writeFileSync(join(dir, "a.txt"), "changed\n");
  git(dir, "status");
  git(dir, "diff");
  git(dir, "add", "a.txt");
  git(dir, "checkout", "-q", "-b", "other");
  try {
    git(dir, "st");
  } catch {
    // Without the alias `git st` is unknown: that is the point.
  }
}

describe("neutraliseGitMetadata", () => {
  it("the hostile repository does run its programs when left alone (the test can fail)", () => {
    const { dir, markers } = hostileRepo("trusted");
    runEverything(dir);
    for (const marker of ["fsmonitor", "clean", "hook", "alias"])
      expect(existsSync(join(markers, marker))).toBe(true);
  });

  it("removes hooks and executing keys, keeps objects, refs and inert keys, and git runs nothing", async () => {
    const { dir, markers } = hostileRepo("neutralised");
    const report = await neutraliseGitMetadata(dir, "neutralised");
    expect(report.git_dirs).toEqual([".git"]);
    const keys = report.removed.map((item) => item.key ?? item.path);
    expect(keys).toEqual(
      expect.arrayContaining([
        "core.fsmonitor",
        "core.pager",
        "core.hookspath",
        "filter.evil.clean",
        "diff.evil.textconv",
        "alias.st",
        "remote.origin.uploadpack",
        "include.path",
        ".git/hooks/post-checkout",
      ]),
    );
    expect(keys).not.toContain("core.repositoryformatversion");
    runEverything(dir);
    expect(existsSync(join(markers, "fsmonitor"))).toBe(false);
    expect(existsSync(join(markers, "clean"))).toBe(false);
    expect(existsSync(join(markers, "textconv"))).toBe(false);
    expect(existsSync(join(markers, "hook"))).toBe(false);
    expect(existsSync(join(markers, "alias"))).toBe(false);
    expect(existsSync(join(markers, "editor"))).toBe(false);
    expect(git(dir, "log", "--format=%s", "main").trim()).toBe("one");
    expect(git(dir, "config", "remote.origin.url").trim()).toBe("https://example.invalid/repo.git");
    expect(readFileSync(join(dir, ".git", "config"), "utf8")).toContain("# Exported by pyro");
  });

  it("finds repositories by their layout, not only by the name .git, and replaces linked configs", async () => {
    const dir = join(root, "layout");
    const bare = join(dir, "not-named-git");
    mkdirSync(join(bare, "objects"), { recursive: true });
    mkdirSync(join(bare, "refs"));
    writeFileSync(join(bare, "HEAD"), "ref: refs/heads/main\n");
    writeFileSync(join(dir, "notes.txt"), "[core]\n\tfsmonitor = evil\n");
    symlinkSync("../notes.txt", join(bare, "config"));
    mkdirSync(join(dir, "sub", ".git", "hooks"), { recursive: true });
    writeFileSync(join(dir, "sub", ".git", "hooks", "pre-commit"), "#!/bin/sh\n");
    chmodSync(join(dir, "sub", ".git"), 0o500);
    const report = await neutraliseGitMetadata(dir, "layout");
    expect(report.git_dirs.sort()).toEqual(["not-named-git", "sub/.git"]);
    expect(report.removed).toEqual(
      expect.arrayContaining([{ path: "not-named-git/config" }, { path: "sub/.git/hooks/pre-commit" }]),
    );
    expect(existsSync(join(bare, "config"))).toBe(false);
    expect(existsSync(join(dir, "sub", ".git", "hooks"))).toBe(false);
  });

  it("replaces a config it cannot read with a minimal one", async () => {
    const dir = join(root, "garbled");
    mkdirSync(join(dir, ".git"), { recursive: true });
    writeFileSync(join(dir, ".git", "config"), '[core "unterminated\n\tfsmonitor = evil\n');
    const report = await neutraliseGitMetadata(dir, "garbled");
    expect(report.removed).toEqual([{ path: ".git/config" }]);
    expect(readFileSync(join(dir, ".git", "config"), "utf8")).toBe("[core]\n\trepositoryformatversion = 0\n");
  });
});

describe("parseGitConfig", () => {
  it("reads keys on the header line, continuations, quotes, comments and bare booleans", () => {
    const text =
      '[core] fsmonitor = a\\\n b ; comment\n[Remote "Or\\"ig"]\n\tURL = " x # y " # z\n\tmirror\n[a.B]\nk=v\n';
    expect(parseGitConfig(text)).toEqual([
      { section: "core", subsection: null, name: "fsmonitor", value: "a b" },
      { section: "remote", subsection: 'Or"ig', name: "url", value: " x # y " },
      { section: "remote", subsection: 'Or"ig', name: "mirror", value: null },
      { section: "a", subsection: "b", name: "k", value: "v" },
    ]);
  });

  it("gives up on what git would refuse", () => {
    for (const bad of ["key = v\n", '[core]\n\tfsmonitor = "open\n', "[core]\n\tx = \\q\n", "[core\n"])
      expect(parseGitConfig(bad)).toBeNull();
  });
});
