import { createHash } from "node:crypto";
import {
  chmodSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { listFiles, readFile, removePaths, writeFile } from "../../src/sandbox/workspace/guest-files.js";
import type { FileOps } from "../../src/agent-protocol/file-ops.js";
import { applyPlan, guestReadCurrent, planPatch } from "../../src/sandbox/workspace/patch.js";
import { indexTar, packDirectory } from "../../src/archive/index.js";
import { archiveFromGuest } from "../../src/sandbox/workspace/guest-archive.js";
import { extractIntoGuest } from "../../src/sandbox/workspace/guest-extract.js";
import { startHostAgent, type HostAgent } from "../helpers/host-agent-runner.js";

// The folder name puts the agent under the global leak check (test/global-setup.ts).
const root = mkdtempSync(join(tmpdir(), "pyro-t-files-"));
const ws = join(root, "workspace");
const outside = join(root, "outside");
let agent: HostAgent;
let files: FileOps;

beforeAll(async () => {
  agent = await startHostAgent(ws);
  files = agent.files;
});
afterAll(async () => {
  await agent.stop();
  rmSync(root, { recursive: true, force: true });
});
beforeEach(() => {
  for (const name of readdirSync(ws)) rmSync(join(ws, name), { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
  mkdirSync(outside);
  writeFileSync(join(outside, "secret.txt"), "secret\n");
});

function put(path: string, content: string | Buffer = ""): void {
  mkdirSync(join(ws, path, ".."), { recursive: true });
  writeFileSync(join(ws, path), content);
}

describe("listFiles", () => {
  it("lists a tree recursively, whatever the names", async () => {
    put("src/app.py", "print(1)\n");
    put("dir with spaces/file", "12345");
    put("new\nline.txt", "x");
    put("tab\tname", "");
    mkdirSync(join(ws, "empty"));
    symlinkSync("src/app.py", join(ws, "link"));
    const listing = await listFiles(files, ".", { recursive: true });
    expect(listing.path).toBe("/workspace");
    expect(listing.truncated).toBe(false);
    expect(listing.entries.map((entry) => [entry.path, entry.type])).toEqual([
      ["dir with spaces", "directory"],
      ["dir with spaces/file", "file"],
      ["empty", "directory"],
      ["link", "symlink"],
      ["new\nline.txt", "file"],
      ["src", "directory"],
      ["src/app.py", "file"],
      ["tab\tname", "file"],
    ]);
    const file = listing.entries.find((entry) => entry.path === "dir with spaces/file");
    const expectedMode = (statSync(join(ws, "dir with spaces/file")).mode & 0o7777)
      .toString(8)
      .padStart(4, "0");
    expect(file).toMatchObject({ size: 5, mode: expectedMode });
    expect(
      Math.abs(Date.parse(file?.mtime ?? "") - statSync(join(ws, "dir with spaces/file")).mtimeMs),
    ).toBeLessThan(1000);
    expect(listing.entries.find((entry) => entry.path === "link")?.link_target).toBe("src/app.py");
    expect(listing.entries.find((entry) => entry.path === "src")?.link_target).toBeUndefined();
  });

  it("lists only the children without recursive, and a file as itself", async () => {
    put("src/a/deep.txt", "x");
    put("src/b.txt", "y");
    const children = await listFiles(files, "/workspace/src");
    expect(children.path).toBe("/workspace/src");
    expect(children.entries.map((entry) => entry.path)).toEqual(["src/a", "src/b.txt"]);
    const single = await listFiles(files, "src/b.txt", { recursive: true });
    expect(single.entries).toHaveLength(1);
    expect(single.entries[0]).toMatchObject({ path: "src/b.txt", type: "file", size: 1 });
  });

  it("caps the entries and says so", async () => {
    for (let i = 0; i < 30; i++) put(`many/f${i}`, "");
    const capped = await listFiles(files, "many", { limit: 10 });
    expect(capped.entries).toHaveLength(10);
    expect(capped.truncated).toBe(true);
    const whole = await listFiles(files, "many", { limit: 30 });
    expect(whole.entries).toHaveLength(30);
    expect(whole.truncated).toBe(false);
  });

  it("reports a missing path", async () => {
    await expect(listFiles(files, "nope")).rejects.toMatchObject({ code: "FILE_NOT_FOUND" });
  });
});

describe("readFile", () => {
  it("reads text and binary content byte for byte", async () => {
    put("hello.txt", "hello\n");
    const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    put("bytes.bin", binary);
    const text = await readFile(files, "hello.txt");
    expect(text).toMatchObject({ path: "/workspace/hello.txt", size: 6, truncated: false });
    expect(text.content.toString()).toBe("hello\n");
    const bytes = await readFile(files, "/workspace/bytes.bin");
    expect(bytes.content.equals(binary)).toBe(true);
    expect(bytes.truncated).toBe(false);
  });

  it("caps the content and says it was truncated", async () => {
    put("big.txt", "0123456789");
    const capped = await readFile(files, "big.txt", { maxBytes: 4 });
    expect(capped).toMatchObject({ size: 10, truncated: true });
    expect(capped.content.toString()).toBe("0123");
    const exact = await readFile(files, "big.txt", { maxBytes: 10 });
    expect(exact.truncated).toBe(false);
    put("empty", "");
    expect(await readFile(files, "empty")).toMatchObject({ size: 0, truncated: false });
  });

  it("refuses a directory and reports a missing file", async () => {
    mkdirSync(join(ws, "dir"));
    await expect(readFile(files, "dir")).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(readFile(files, ".")).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(readFile(files, "missing.txt")).rejects.toMatchObject({ code: "FILE_NOT_FOUND" });
  });
});

describe("writeFile", () => {
  it("creates parents, overwrites atomically and keeps the mode", async () => {
    const created = await writeFile(files, "a/b/c/new.txt", Buffer.from("one\n"));
    expect(created).toEqual({ path: "/workspace/a/b/c/new.txt", bytes_written: 4 });
    expect(readFileSync(join(ws, "a/b/c/new.txt"), "utf8")).toBe("one\n");
    put("umask-probe", ""); // created with the same umask as a new file in the guest
    expect(statSync(join(ws, "a/b/c/new.txt")).mode & 0o777).toBe(
      statSync(join(ws, "umask-probe")).mode & 0o777,
    );

    chmodSync(join(ws, "a/b/c/new.txt"), 0o755);
    await writeFile(files, "a/b/c/new.txt", Buffer.from("two\n"));
    expect(readFileSync(join(ws, "a/b/c/new.txt"), "utf8")).toBe("two\n");
    expect(statSync(join(ws, "a/b/c/new.txt")).mode & 0o777).toBe(0o755);
    expect(readdirSync(join(ws, "a/b/c"))).toEqual(["new.txt"]); // no temp file left
  });

  it("streams 5 MB without holding it whole", async () => {
    const chunk = Buffer.alloc(64 * 1024);
    const total = 5 * 1024 * 1024;
    const hash = createHash("sha256");
    async function* source(): AsyncGenerator<Buffer> {
      for (let sent = 0; sent < total; sent += chunk.length) {
        chunk.fill(sent % 251);
        hash.update(chunk);
        yield Buffer.from(chunk);
      }
    }
    const result = await writeFile(files, "big/stream.bin", source());
    expect(result.bytes_written).toBe(total);
    const written = readFileSync(join(ws, "big/stream.bin"));
    expect(createHash("sha256").update(written).digest("hex")).toBe(hash.digest("hex"));
  });

  it("refuses a directory target, a file as a parent, and missing parents when asked not to create them", async () => {
    mkdirSync(join(ws, "dir"));
    await expect(writeFile(files, "dir", Buffer.from("x"))).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
    await expect(
      writeFile(files, "no/such/file", Buffer.from("x"), { createParents: false }),
    ).rejects.toMatchObject({
      code: "FILE_NOT_FOUND",
    });
    expect(existsSync(join(ws, "no"))).toBe(false);
    put("plain", "x");
    await expect(writeFile(files, "plain/deeper/child", Buffer.from("x"))).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: "a parent of /workspace/plain/deeper/child is a file, not a directory",
    });
  });
});

describe("paths that leave the workspace", () => {
  beforeEach(() => {
    symlinkSync("/etc", join(ws, "etc-link"));
    symlinkSync("..", join(ws, "up"));
    symlinkSync(join(outside, "planted.txt"), join(ws, "dangling"));
    symlinkSync("hello.txt", join(ws, "inside-link"));
    put("hello.txt", "hello\n");
  });

  it("refuses symlinks that lead outside, for read, write and list", async () => {
    const outsideCode = { code: "PATH_OUTSIDE_WORKSPACE" };
    await expect(readFile(files, "etc-link/passwd")).rejects.toMatchObject(outsideCode);
    await expect(readFile(files, "up/outside/secret.txt")).rejects.toMatchObject(outsideCode);
    await expect(listFiles(files, "etc-link")).rejects.toMatchObject(outsideCode);
    await expect(listFiles(files, "up", { recursive: true })).rejects.toMatchObject(outsideCode);
    await expect(writeFile(files, "up/escape.txt", Buffer.from("x"))).rejects.toMatchObject(outsideCode);
    await expect(writeFile(files, "dangling", Buffer.from("x"))).rejects.toMatchObject(outsideCode);
    await expect(writeFile(files, "up/outside/new/dir/f", Buffer.from("x"))).rejects.toMatchObject(
      outsideCode,
    );
    await expect(removePaths(files, ["up/outside/secret.txt"])).rejects.toMatchObject(outsideCode);
    expect(existsSync(join(root, "escape.txt"))).toBe(false);
    expect(existsSync(join(outside, "planted.txt"))).toBe(false);
    expect(existsSync(join(outside, "new"))).toBe(false);
    expect(readFileSync(join(outside, "secret.txt"), "utf8")).toBe("secret\n");
  });

  it("still lists such links as links, and follows links that stay inside", async () => {
    const listing = await listFiles(files, ".");
    expect(listing.entries.find((entry) => entry.path === "etc-link")).toMatchObject({
      type: "symlink",
      link_target: "/etc",
    });
    expect((await readFile(files, "inside-link")).content.toString()).toBe("hello\n");
    await writeFile(files, "inside-link", Buffer.from("through\n"));
    expect(readFileSync(join(ws, "hello.txt"), "utf8")).toBe("through\n");
  });

  it("refuses ../ paths before running anything in the guest", async () => {
    let calls = 0;
    // Every operation goes through request(); count what reaches the agent.
    const counting = new Proxy(files, {
      get(target, key, receiver) {
        const value: unknown = Reflect.get(target, key, receiver);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          calls++;
          return Reflect.apply(value, target, args);
        };
      },
    });
    const outsideCode = { code: "PATH_OUTSIDE_WORKSPACE" };
    await expect(readFile(counting, "../outside/secret.txt")).rejects.toMatchObject(outsideCode);
    await expect(writeFile(counting, "/workspace/../x", Buffer.from("x"))).rejects.toMatchObject(outsideCode);
    await expect(listFiles(counting, "/etc")).rejects.toMatchObject(outsideCode);
    await expect(removePaths(counting, ["ok.txt", "../../x"])).rejects.toMatchObject(outsideCode);
    expect(calls).toBe(0);
  });
});

describe("removePaths", () => {
  it("removes files, and nothing when one path is refused", async () => {
    put("a.txt");
    put("sub/b.txt");
    mkdirSync(join(ws, "dir"));
    await expect(removePaths(files, ["a.txt", "dir"])).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: "/workspace/dir is a directory",
    });
    await expect(removePaths(files, ["a.txt", "gone.txt"])).rejects.toMatchObject({
      code: "FILE_NOT_FOUND",
      message: "/workspace/gone.txt does not exist",
    });
    expect(existsSync(join(ws, "a.txt"))).toBe(true);
    expect(await removePaths(files, ["a.txt", "/workspace/sub/b.txt"])).toEqual({
      removed: ["/workspace/a.txt", "/workspace/sub/b.txt"],
    });
    expect(readdirSync(ws).sort()).toEqual(["dir", "sub"]);
  });
});

describe("patches in the guest", () => {
  const patch = [
    "diff --git a/src/app.py b/src/app.py",
    "--- a/src/app.py",
    "+++ b/src/app.py",
    "@@ -1,2 +1,2 @@",
    " import os",
    '-print("hello")',
    '+print("patched")',
    "diff --git a/docs/new.md b/docs/new.md",
    "new file mode 100644",
    "--- /dev/null",
    "+++ b/docs/new.md",
    "@@ -0,0 +1 @@",
    "+# New",
    "diff --git a/old.txt b/old.txt",
    "deleted file mode 100644",
    "--- a/old.txt",
    "+++ /dev/null",
    "@@ -1 +0,0 @@",
    "-bye",
    "",
  ].join("\n");

  it("applies a multi-file patch", async () => {
    put("src/app.py", 'import os\nprint("hello")\n');
    put("old.txt", "bye\n");
    const plan = await planPatch(patch, guestReadCurrent(files));
    expect(plan.summary).toEqual({ total: 3, added: 1, modified: 1, deleted: 1 });
    await applyPlan(files, plan);
    expect(readFileSync(join(ws, "src/app.py"), "utf8")).toBe('import os\nprint("patched")\n');
    expect(readFileSync(join(ws, "docs/new.md"), "utf8")).toBe("# New\n");
    expect(existsSync(join(ws, "old.txt"))).toBe(false);
  });

  it("changes nothing when one hunk does not apply", async () => {
    put("src/app.py", 'import os\nprint("hello")\n');
    put("old.txt", "something else\n");
    await expect(planPatch(patch, guestReadCurrent(files))).rejects.toMatchObject({
      code: "PATCH_FAILED",
      details: { file: "old.txt" },
    });
    expect(readFileSync(join(ws, "src/app.py"), "utf8")).toBe('import os\nprint("hello")\n');
    expect(existsSync(join(ws, "docs"))).toBe(false);
  });

  it("refuses to patch a file that is not UTF-8 text", async () => {
    put("src/app.py", Buffer.from([0xff, 0xfe, 0x00]));
    put("old.txt", "bye\n");
    await expect(planPatch(patch, guestReadCurrent(files))).rejects.toMatchObject({
      code: "PATCH_FAILED",
      message: "/workspace/src/app.py is not UTF-8 text",
    });
  });
});

describe("archives in and out of the guest", () => {
  it("unpacks files, modes, times, symbolic and hard links, and archives them back", async () => {
    const source = join(root, "source");
    rmSync(source, { recursive: true, force: true });
    mkdirSync(join(source, "bin"), { recursive: true });
    writeFileSync(join(source, "bin", "run"), "#!/bin/sh\n");
    chmodSync(join(source, "bin", "run"), 0o750);
    utimesSync(join(source, "bin", "run"), 1_000_000, 1_000_000);
    writeFileSync(join(source, "big.bin"), Buffer.alloc(300_000, 3));
    symlinkSync("bin/run", join(source, "link"));
    linkSync(join(source, "big.bin"), join(source, "hard.bin"));
    const packed = await packDirectory(source);
    await extractIntoGuest(files, "in", packed.stream);
    const run = statSync(join(ws, "in", "bin", "run"));
    expect(run.mode & 0o7777).toBe(0o750);
    expect(run.mtimeMs).toBe(1_000_000_000);
    expect(readlinkSync(join(ws, "in", "link"))).toBe("bin/run");
    expect(statSync(join(ws, "in", "hard.bin")).ino).toBe(statSync(join(ws, "in", "big.bin")).ino);
    expect(readdirSync(join(ws, "in")).filter((name) => name.startsWith(".pyro-write"))).toEqual([]);

    const out = archiveFromGuest(files, "in");
    const [index] = await Promise.all([indexTar(out.stream, { keepText: () => true }), out.done]);
    expect([...index.keys()].sort()).toEqual([
      "in",
      "in/big.bin",
      "in/bin",
      "in/bin/run",
      "in/hard.bin",
      "in/link",
    ]);
    expect(index.get("in/bin/run")).toMatchObject({ type: "file", size: 10 });
    expect(index.get("in/link")).toMatchObject({ type: "symlink" });
  });
});
