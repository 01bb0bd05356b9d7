import { execFileSync } from "node:child_process";
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { extractGuestTar } from "../../src/archive/index.js";
import { chunked, rawTar } from "./archive-fixtures.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "pyro-archive-extract-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Only the output itself may be left in the directory: no staging or aside copies. */
async function expectOnlyEntries(names: string[]): Promise<void> {
  expect((await readdir(dir)).sort()).toEqual(names.sort());
}

describe("extractGuestTar", () => {
  it("exports a directory made by GNU tar, with modes, odd names and inner symlinks", async () => {
    const workspace = join(dir, "workspace");
    await mkdir(join(workspace, "src/sub"), { recursive: true });
    await writeFile(join(workspace, "src/sub/a.txt"), "hello");
    await writeFile(join(workspace, "src/run me\nü.sh"), "#!/bin/sh\n", { mode: 0o755 });
    execFileSync("chmod", ["4755", join(workspace, "src/run me\nü.sh")]);
    execFileSync("ln", ["-s", "sub/a.txt", join(workspace, "src/link")]);
    const tar = execFileSync("tar", ["-c", "-C", workspace, "--", "src"]);

    const output = join(dir, "out");
    const result = await extractGuestTar(chunked(tar), output, { root: "src", expect: "directory" });
    expect(result).toEqual({ artifact_type: "directory", entry_count: 5, bytes_written: 15, skipped: [] });
    expect(await readFile(join(output, "sub/a.txt"), "utf8")).toBe("hello");
    expect((await stat(join(output, "run me\nü.sh"))).mode & 0o7777).toBe(0o755);
    expect(await readlink(join(output, "link"))).toBe("sub/a.txt");
    await expectOnlyEntries(["workspace", "out"]);
  });

  it("exports the whole tree for root '.' and a single file under the output name", async () => {
    const tar = rawTar([
      { name: "./", type: "Directory" },
      { name: "./notes.txt", body: "n" },
    ]);
    const all = await extractGuestTar(chunked(tar), join(dir, "all"), { root: ".", expect: "directory" });
    expect(all).toMatchObject({ entry_count: 2, bytes_written: 1 });
    const one = await extractGuestTar(
      chunked(rawTar([{ name: "notes.txt", body: "note", mode: 0o640 }])),
      join(dir, "n.txt"),
      {
        root: "notes.txt",
        expect: "file",
      },
    );
    expect(one).toEqual({ artifact_type: "file", entry_count: 1, bytes_written: 4, skipped: [] });
    expect(await readFile(join(dir, "n.txt"), "utf8")).toBe("note");
    expect((await stat(join(dir, "n.txt"))).mode & 0o777).toBe(0o640);
  });

  it("never writes through a guest symlink to /etc, whatever comes after it", async () => {
    const passwdBefore = await readFile("/etc/passwd");
    const tar = rawTar([
      { name: "src/", type: "Directory" },
      { name: "src/link", type: "SymbolicLink", linkpath: "/etc" },
      { name: "src/link/passwd", body: "pwned\n" },
      { name: "src/up", type: "SymbolicLink", linkpath: "../.." },
      { name: "src/up/pwned", body: "pwned\n" },
    ]);
    const output = join(dir, "out");
    const result = await extractGuestTar(chunked(tar), output, { root: "src", expect: "directory" });
    expect(await readFile("/etc/passwd")).toEqual(passwdBefore);
    expect(result.skipped).toEqual([
      { path: "src/link/passwd", reason: 'it is below the symlink "link"' },
      { path: "src/up/pwned", reason: 'it is below the symlink "up"' },
      { path: "src/link", reason: 'its target "/etc" is absolute' },
      { path: "src/up", reason: 'its target "../.." leaves the exported tree' },
    ]);
    expect(await readdir(output)).toEqual([]);
    await expectOnlyEntries(["out"]);
  });

  it("skips unsafe names, hard links, devices and FIFOs and reports them", async () => {
    const tar = rawTar([
      { name: "d/", type: "Directory" },
      { name: "/etc/evil", body: "x" },
      { name: "d/../../evil", body: "x" },
      { name: "d/hard", type: "Link", linkpath: "etc/passwd" },
      { name: "d/null", type: "CharacterDevice" },
      { name: "d/pipe", type: "FIFO" },
      { name: "elsewhere.txt", body: "x" },
      { name: "d/ok.txt", body: "ok" },
      { name: "d/ok.txt", body: "again" },
      { name: "d/ok.txt/below", body: "x" },
      { name: "d/cycle", type: "SymbolicLink", linkpath: "cycle" },
      { name: "d/inner", type: "SymbolicLink", linkpath: "ok.txt" },
    ]);
    const output = join(dir, "out");
    const result = await extractGuestTar(chunked(tar, 700), output, { root: "d", expect: "directory" });
    expect(result.skipped).toEqual([
      { path: "/etc/evil", reason: "absolute name" },
      { path: "d/../../evil", reason: "name contains a '..' segment" },
      { path: "d/hard", reason: "hard links are not exported" },
      { path: "d/null", reason: "CharacterDevice entries are not exported" },
      { path: "d/pipe", reason: "FIFO entries are not exported" },
      { path: "elsewhere.txt", reason: "outside the exported path" },
      { path: "d/ok.txt", reason: "an earlier entry has this name" },
      { path: "d/ok.txt/below", reason: 'its parent "ok.txt" is a file' },
      { path: "d/cycle", reason: 'its target "cycle" leaves the exported tree' },
    ]);
    expect(result.entry_count).toBe(3);
    expect((await readdir(output)).sort()).toEqual(["inner", "ok.txt"]);
    expect(await readFile(join(output, "ok.txt"), "utf8")).toBe("ok");
    await expect(lstat("/etc/evil")).rejects.toThrow();
    await expect(lstat(join(dir, "evil"))).rejects.toThrow();
  });

  it("refuses an existing output unless told to overwrite, then replaces it whole", async () => {
    const output = join(dir, "out");
    await mkdir(output);
    await writeFile(join(output, "old.txt"), "old");
    const tar = () =>
      chunked(
        rawTar([
          { name: "d/", type: "Directory" },
          { name: "d/new.txt", body: "new" },
        ]),
      );
    await expect(extractGuestTar(tar(), output, { root: "d", expect: "directory" })).rejects.toMatchObject({
      code: "OUTPUT_EXISTS",
    });
    expect(await readdir(output)).toEqual(["old.txt"]);
    await extractGuestTar(tar(), output, { root: "d", expect: "directory", overwrite: true });
    expect(await readdir(output)).toEqual(["new.txt"]);
    await writeFile(join(dir, "file.txt"), "old");
    await extractGuestTar(tar(), join(dir, "file.txt"), { root: "d", expect: "directory", overwrite: true });
    expect(await readdir(join(dir, "file.txt"))).toEqual(["new.txt"]);
    await expectOnlyEntries(["out", "file.txt"]);
  });

  it("names a missing parent directory, and reports a stream without the path", async () => {
    const tar = chunked(rawTar([{ name: "x.txt", body: "x" }]));
    const missing = extractGuestTar(tar, join(dir, "no/such/out"), { root: "x.txt", expect: "file" });
    await expect(missing).rejects.toMatchObject({
      code: "FILE_NOT_FOUND",
      message: expect.stringContaining(join(dir, "no/such")),
    });
    await expect(
      extractGuestTar(chunked(Buffer.alloc(0)), join(dir, "o"), { root: "x", expect: "file" }),
    ).rejects.toMatchObject({
      code: "FILE_NOT_FOUND",
    });
    const wrongKind = extractGuestTar(
      chunked(rawTar([{ name: "x", type: "SymbolicLink", linkpath: "y" }])),
      join(dir, "o"),
      {
        root: "x",
        expect: "file",
      },
    );
    await expect(wrongKind).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expectOnlyEntries([]);
  });

  it("leaves nothing behind when the stream breaks half-way", async () => {
    const tar = rawTar([
      { name: "d/", type: "Directory" },
      { name: "d/a", body: "a".repeat(100_000) },
    ]);
    const broken = extractGuestTar(chunked(tar.subarray(0, 50_000)), join(dir, "out"), {
      root: "d",
      expect: "directory",
    });
    await expect(broken).rejects.toMatchObject({ code: "ARCHIVE_UNSAFE" });
    await expectOnlyEntries([]);
  });

  it("streams a 100 MB file with bounded memory", async () => {
    const size = 100 * 1024 * 1024;
    const header = rawTar([{ name: "big.bin", body: "" }]).subarray(0, 512);
    header.write(size.toString(8).padStart(11, "0"), 124, "ascii");
    // Recompute the header checksum after changing the size field.
    header.fill(" ", 148, 156);
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "ascii");
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let peakRss = 0;
    async function* stream(): AsyncGenerator<Buffer> {
      yield header;
      for (let sent = 0; sent < size; sent += chunk.length) {
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
        yield chunk;
      }
      yield Buffer.alloc(1024);
    }
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    const result = await extractGuestTar(stream(), join(dir, "big.bin"), { root: "big.bin", expect: "file" });
    expect(result.bytes_written).toBe(size);
    expect((await stat(join(dir, "big.bin"))).size).toBe(size);
    expect(peakRss - rssBefore).toBeLessThan(40 * 1024 * 1024);
  });
});
