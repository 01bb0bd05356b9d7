import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { lstat, mkdtemp, readFile, readlink, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { writeCpio } from "../../src/environments/cpio.js";

const BUSYBOX = ["/bin/busybox", "/usr/bin/busybox"].find((path) => existsSync(path));

describe.skipIf(BUSYBOX === undefined)("cpio archives read by busybox cpio (needs busybox)", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "pyro-cpio-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("extracts directories, files with their modes and symlinks", async () => {
    const archive = writeCpio([
      { type: "directory", path: "pyro" },
      { type: "directory", path: "pyro/modules", mode: 0o700 },
      { type: "file", path: "pyro/modules/virtio.ko", data: Buffer.from("module bytes") },
      { type: "file", path: "init", mode: 0o755, data: Buffer.from("#!/bin/sh\n") },
      { type: "symlink", path: "pyro/latest", target: "modules/virtio.ko" },
    ]);
    const result = spawnSync(BUSYBOX as string, ["cpio", "-i", "-d"], { cwd: dir, input: archive });
    expect(result.status, result.stderr.toString()).toBe(0);

    expect(await readFile(join(dir, "pyro/modules/virtio.ko"), "utf8")).toBe("module bytes");
    expect((await lstat(join(dir, "init"))).mode & 0o7777).toBe(0o755);
    expect((await lstat(join(dir, "pyro/modules"))).mode & 0o7777).toBe(0o700);
    expect(await readlink(join(dir, "pyro/latest"))).toBe("modules/virtio.ko");
  });

  it("lists the entries of an archive in order", () => {
    const archive = writeCpio([
      { type: "directory", path: "dev" },
      { type: "file", path: "pyro/modules.order", data: Buffer.from("a.ko\n") },
    ]);
    const result = spawnSync(BUSYBOX as string, ["cpio", "-t"], { input: archive });
    expect(result.stdout.toString().trim().split("\n")).toEqual(["dev", "pyro/modules.order"]);
  });
});
