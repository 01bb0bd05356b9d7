import { spawnSync } from "node:child_process";
import { mkdtemp, open, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildEnvironment, type InstalledEnvironment } from "../../src/environments/index.js";

/**
 * A real build of debian:12 from deb.debian.org: root, network, mmdebstrap and ~1 minute. Opt in
 * with PYRO_TEST_BUILD=1; CI builds the default environment in its own step instead.
 */
const enabled = process.env.PYRO_TEST_BUILD === "1";

describe.skipIf(!enabled)(
  "real build of debian:12 (skipped unless PYRO_TEST_BUILD=1: needs root and network)",
  () => {
    const savedCacheDir = process.env.PYRO_ENVIRONMENT_CACHE_DIR;
    let cacheDir: string;
    let installed: InstalledEnvironment;
    const phases: string[] = [];

    beforeAll(async () => {
      // /var/tmp, not /tmp: the sparse root image must not land on a small tmpfs.
      cacheDir = await mkdtemp("/var/tmp/pyro-env-build-test-");
      process.env.PYRO_ENVIRONMENT_CACHE_DIR = cacheDir;
      installed = await buildEnvironment("debian:12", { onPhase: (phase) => phases.push(phase) });
    }, 900_000);

    afterAll(async () => {
      if (savedCacheDir === undefined) delete process.env.PYRO_ENVIRONMENT_CACHE_DIR;
      else process.env.PYRO_ENVIRONMENT_CACHE_DIR = savedCacheDir;
      await rm(cacheDir, { recursive: true, force: true });
    });

    it("goes through every phase and installs into the cache", () => {
      expect(phases).toEqual(["rootfs", "kernel", "initramfs", "image", "manifest", "verify", "installed"]);
      expect(installed.dir).toBe(join(cacheDir, "debian_12", installed.version));
      expect(installed.kernelRelease).toMatch(/^6\.1\.0-\d+-cloud-amd64$/);
    });

    it("keeps an uncompressed ELF kernel", async () => {
      const file = await open(installed.kernelPath, "r");
      const { buffer } = await file.read(Buffer.alloc(4), 0, 4, 0);
      await file.close();
      expect(buffer.toString("latin1")).toBe("\x7fELF");
    });

    it("ships the virtio modules and their load order in the initramfs", async () => {
      const listing = spawnSync("busybox", ["cpio", "-t"], {
        input: await readFile(installed.initramfsPath),
      });
      const names = listing.stdout.toString().split("\n");
      expect(names).toEqual(expect.arrayContaining(["pyro/modules.order", "dev/console", "newroot"]));
      expect(names).not.toContain("init");
      const scratch = await mkdtemp(join(tmpdir(), "pyro-initramfs-"));
      spawnSync("busybox", ["cpio", "-i", "-d"], {
        cwd: scratch,
        input: await readFile(installed.initramfsPath),
      });
      const order = (await readFile(join(scratch, "pyro/modules.order"), "utf8")).trim().split("\n");
      await rm(scratch, { recursive: true, force: true });
      for (const module of order) expect(names).toContain(`pyro/modules/${module}`);
      expect(order.indexOf("virtio.ko")).toBeLessThan(order.indexOf("virtio_blk.ko"));
      expect(order).toEqual(expect.arrayContaining(["virtio_mmio.ko", "virtio_console.ko", "overlay.ko"]));
    });

    it("builds a root image with git, /workspace and the pyro hostname", () => {
      const debugfs = (request: string): string =>
        spawnSync("debugfs", ["-R", request, installed.rootfsPath]).stdout.toString();
      expect(debugfs("cat /etc/hostname")).toBe("pyro\n");
      expect(debugfs("stat /workspace")).toMatch(/Mode:\s+0755/);
      expect(debugfs("stat /usr/bin/git")).toMatch(/Type: regular/);
    });

    it("returns the installed entry on a second build without rebuilding", async () => {
      const again: string[] = [];
      const second = await buildEnvironment("debian:12", { onPhase: (phase) => again.push(phase) });
      expect(second.dir).toBe(installed.dir);
      expect(again).toEqual([]);
    });
  },
);
