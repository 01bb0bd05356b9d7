import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { driverByName } from "../../src/machine/registry.js";

describe("the QEMU backend's disk overlay", () => {
  const dir = mkdtempSync("/tmp/pyro-overlay-");
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("backs each VM's qcow2 with its own hard link of the root image, which outlives the cache entry", async () => {
    const cached = join(dir, "rootfs.ext4");
    writeFileSync(cached, Buffer.alloc(1024 * 1024, 7));
    const vm = join(dir, "vm");
    execFileSync("mkdir", ["-p", vm]);
    const disk = driverByName("qemu").disk;
    await disk.create(vm, { path: cached, format: "raw" });
    const overlay = disk.imageFile(vm) ?? "";
    const base = join(vm, "base.ext4");
    expect(statSync(base).ino).toBe(statSync(cached).ino);
    const info = JSON.parse(
      execFileSync("qemu-img", ["info", "--output=json", overlay]).toString(),
    ) as Record<string, unknown>;
    expect(info["backing-filename"]).toBe("base.ext4"); // relative: the folder may move whole
    expect(info["full-backing-filename"]).toBe(base);
    rmSync(cached); // a rebuild or prune of the environment
    execFileSync("qemu-img", ["check", "-q", overlay]);
    expect(statSync(base).size).toBe(1024 * 1024);
  });

  it("layers over a saved disk backed by its raw base, and refuses a VM's own disk rather than loop", async () => {
    const disk = driverByName("qemu").disk;
    const saved = join(dir, "saved");
    const vm = join(dir, "over-saved");
    const nested = join(dir, "nested");
    for (const folder of [saved, vm, nested]) execFileSync("mkdir", ["-p", folder]);
    writeFileSync(join(dir, "root.ext4"), Buffer.alloc(1024 * 1024, 3));
    await disk.create(saved, { path: join(dir, "root.ext4"), format: "raw" });
    await disk.create(vm, { path: join(saved, "disk.qcow2"), format: "qcow2" });
    execFileSync("qemu-img", ["check", "-q", join(vm, "disk.qcow2")]);
    await expect(disk.create(nested, { path: join(vm, "disk.qcow2"), format: "qcow2" })).rejects.toThrow(
      /must be backed by its raw base.ext4, not base.qcow2/,
    );
  });
});
