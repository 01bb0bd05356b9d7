import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { driverByName } from "../../src/machine/registry.js";
import { PyroError } from "../../src/errors/index.js";

const GIB = 1024 * 1024 * 1024;

/** A file of the image's ext4, read with debugfs from a flattened copy. */
function catFile(raw: string, path: string): string {
  return execFileSync("debugfs", ["-R", `cat ${path}`, raw], {
    stdio: ["ignore", "pipe", "ignore"],
  }).toString();
}

describe("workspace images (qcow2 over ext4, internal snapshots)", () => {
  const dir = mkdtempSync("/tmp/pyro-wsimage-");
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const format = driverByName("qemu").workspaceImage;

  it("the host driver has none", () => {
    expect(driverByName("host").workspaceImage).toBeNull();
    expect(format).not.toBeNull();
  });

  it("hands the root and every seeded entry to an owner, odd names and symlinks included", async () => {
    if (format === null) throw new Error("no format");
    const seed = join(dir, "owned-seed");
    const odd = ['a "quoted" name', "line\nbreak", "sp ace"];
    mkdirSync(join(seed, "deep", "er"), { recursive: true });
    for (const name of odd) writeFileSync(join(seed, "deep", name), "x");
    symlinkSync("deep/er", join(seed, "link"));
    const ws = join(dir, "ws-owned");
    mkdirSync(ws);
    const image = join(ws, "workspace.qcow2");
    await format.create(image, {
      virtualBytes: GIB,
      seedTree: seed,
      cacheDir: dir,
      owner: { uid: 1000, gid: 1001 },
    });
    const raw = join(dir, "owned.raw");
    await format.flatten(image, raw);
    const owners = (path: string): string =>
      /User:\s+(\d+)\s+Group:\s+(\d+)/
        .exec(
          execFileSync("debugfs", ["-R", `stat "${path.replaceAll('"', '""')}"`, raw], {
            stdio: ["ignore", "pipe", "ignore"],
          }).toString(),
        )
        ?.slice(1)
        .join(":") ?? "none";
    for (const path of ["/", "/deep", "/deep/er", "/link", ...odd.map((name) => `/deep/${name}`)])
      expect(owners(path), path).toBe("1000:1001");
    rmSync(raw);
    // An empty image of that owner: its root only (cached apart from root's).
    const empty = join(ws, "empty.qcow2");
    await format.create(empty, {
      virtualBytes: GIB,
      seedTree: null,
      cacheDir: dir,
      owner: { uid: 1000, gid: 1001 },
    });
    await format.flatten(empty, raw);
    expect(owners("/")).toBe("1000:1001");
    rmSync(raw);
  });

  it("makes a seeded image of the fixed size whose files the snapshot table reverts to", async () => {
    if (format === null) throw new Error("no format");
    const seed = join(dir, "seed");
    mkdirSync(join(seed, "src"), { recursive: true });
    writeFileSync(join(seed, "src", "a.txt"), "first\n");
    const ws = join(dir, "ws1");
    mkdirSync(ws);
    const image = join(ws, "workspace.qcow2");
    await format.create(image, { virtualBytes: 2 * GIB, seedTree: seed, cacheDir: dir });
    const info = JSON.parse(execFileSync("qemu-img", ["info", "--output=json", image]).toString()) as {
      "virtual-size": number;
      "backing-filename": string;
    };
    expect(info["virtual-size"]).toBe(2 * GIB);
    expect(info["backing-filename"]).toBe("workspace-base.ext4");
    await format.snapshot(image, "baseline");
    const raw = join(dir, "flat.raw");
    await format.flatten(image, raw);
    expect(catFile(raw, "/src/a.txt")).toBe("first\n");
    // Exactly the seed at the top: no lost+found.
    const top = execFileSync("debugfs", ["-R", "ls /", raw], {
      stdio: ["ignore", "pipe", "ignore"],
    }).toString();
    expect(top).toContain("src");
    expect(top).not.toContain("lost+found");
    expect(statSync(image).mode & 0o777).toBe(0o600);
    expect(
      execFileSync("debugfs", ["-R", "stat /", raw], { stdio: ["ignore", "pipe", "ignore"] }).toString(),
    ).toMatch(/User:\s+0\s+Group:\s+0/);
    // Write a new file into the image's file system (convert back, overlay it) and revert.
    writeFileSync(join(dir, "b.txt"), "second\n");
    execFileSync("debugfs", ["-w", "-R", `write ${join(dir, "b.txt")} /src/b.txt`, raw], { stdio: "ignore" });
    execFileSync("qemu-img", ["convert", "-n", "-f", "raw", "-O", "qcow2", raw, image], { stdio: "ignore" });
    rmSync(raw);
    await format.flatten(image, raw);
    expect(catFile(raw, "/src/b.txt")).toBe("second\n");
    rmSync(raw);
    await format.snapshot(image, "one");
    await format.revert(image, "baseline");
    await format.flatten(image, raw);
    expect(catFile(raw, "/src/b.txt")).toBe("");
    expect(catFile(raw, "/src/a.txt")).toBe("first\n");
    rmSync(raw);
    await format.revert(image, "one");
    await format.flatten(image, raw);
    expect(catFile(raw, "/src/b.txt")).toBe("second\n");
    rmSync(raw);
    const names = (await format.listSnapshots(image)).map((entry) => entry.name);
    expect(names).toEqual(["baseline", "one"]);
    await format.deleteSnapshot(image, "one");
    expect((await format.listSnapshots(image)).map((entry) => entry.name)).toEqual(["baseline"]);
    await expect(format.revert(image, "one")).rejects.toBeInstanceOf(PyroError);
  });

  it("backs empty images with one cached base, hard-linked into each workspace", async () => {
    if (format === null) throw new Error("no format");
    const images = ["ws2", "ws3"].map((name) => {
      mkdirSync(join(dir, name));
      return join(dir, name, "workspace.qcow2");
    });
    for (const image of images)
      await format.create(image, { virtualBytes: GIB, seedTree: null, cacheDir: dir });
    const cached = join(dir, "workspace-images", `empty-${GIB}.ext4`);
    for (const name of ["ws2", "ws3"])
      expect(statSync(join(dir, name, "workspace-base.ext4")).ino).toBe(statSync(cached).ino);
    // The empty file system is small on the host however big its virtual size.
    expect(statSync(cached).blocks * 512).toBeLessThan(32 * 1024 * 1024);
    execFileSync("qemu-img", ["check", "-q", images[0] ?? ""]);
  });
});
