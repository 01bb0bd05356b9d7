import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { archiveInputs } from "../../src/environments/build-inputs.js";
import { buildEnvironment, type InstalledEnvironment } from "../../src/environments/index.js";
import { findExecutable } from "../../src/platform/find-executable.js";
import { runPyro } from "../helpers/cli.js";
import { useTempPyroHome } from "../helpers/pyro-home.js";

/**
 * Two real builds of debian:12-base from Debian's archive into two fresh caches: root, network,
 * mmdebstrap and about a minute each. Opt in with PYRO_TEST_BUILDS=1 (or PYRO_TEST_BUILD=1); CI
 * (CI=true) runs it, since it builds environments anyway.
 */
const requested =
  process.env.PYRO_TEST_BUILDS === "1" || process.env.PYRO_TEST_BUILD === "1" || process.env.CI === "true";
const canBuild =
  process.getuid?.() === 0 &&
  ["mmdebstrap", "mkfs.ext4", "lz4", "depmod", "modprobe", "dpkg-deb"].every((tool) => findExecutable(tool));

describe.skipIf(!requested || !canBuild)(
  "reproducible builds (skipped unless PYRO_TEST_BUILDS=1 or CI=true: needs root and network)",
  () => {
    const savedCacheDir = process.env.PYRO_ENVIRONMENT_CACHE_DIR;
    const cacheDirs: string[] = [];
    const builds: InstalledEnvironment[] = [];
    const home = useTempPyroHome();

    beforeAll(async () => {
      for (let build = 0; build < 2; build++) {
        // /var/tmp, not /tmp: the sparse root image must not land on a small tmpfs.
        const cacheDir = await mkdtemp("/var/tmp/pyro-repro-build-");
        cacheDirs.push(cacheDir);
        process.env.PYRO_ENVIRONMENT_CACHE_DIR = cacheDir;
        const started = Date.now();
        builds.push(await buildEnvironment("debian:12-base"));
        console.log(`build ${build + 1}: ${Date.now() - started} ms`);
      }
    }, 1_800_000);

    afterAll(async () => {
      if (savedCacheDir === undefined) delete process.env.PYRO_ENVIRONMENT_CACHE_DIR;
      else process.env.PYRO_ENVIRONMENT_CACHE_DIR = savedCacheDir;
      home.cleanup();
      for (const dir of cacheDirs) await rm(dir, { recursive: true, force: true });
    });

    it("gives the same kernel, initramfs and root image digests twice", () => {
      const [first, second] = builds.map((build) => build.manifest);
      console.log(JSON.stringify(first?.files));
      expect(first?.built_at).not.toBe(second?.built_at);
      expect(second?.files).toEqual(first?.files);
    });

    it("records the same inputs, with the archive's epoch on every file of the image", () => {
      const [first, second] = builds.map((build) => build.manifest);
      const epoch = archiveInputs().sourceDateEpoch;
      expect(first?.provenance).toEqual(second?.provenance);
      expect(first?.provenance).toMatchObject({
        kind: "built",
        inputs: {
          suite: "bookworm",
          snapshot: process.env.PYRO_DEBIAN_SNAPSHOT || null,
          source_date_epoch: epoch,
          packages: ["ca-certificates", "procps"],
          kernel_package: expect.stringMatching(/^linux-image-6\.1\.0-\d+-cloud-amd64=\S+$/),
          mmdebstrap: expect.stringMatching(/^\d+\.\d+/),
          e2fsprogs: expect.stringMatching(/^\d+\.\d+/),
        },
      });
      const stat = execFileSync("debugfs", ["-R", "stat /etc/passwd", builds[0]?.rootfsPath ?? ""], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      });
      expect(stat).toMatch(new RegExp(`^\\s*mtime: 0x${epoch.toString(16)}:00000000`, "m"));
    });

    it("boots the rebuilt environment", async () => {
      const result = await runPyro(["run", "debian:12-base", "--", "sh", "-c", "stat -c %Y /etc/passwd"], {
        PYRO_ENVIRONMENT_CACHE_DIR: cacheDirs[1],
      });
      expect(result.stderr).toMatch(/exit_code=0/);
      expect(result.stdout.trim()).toBe(String(archiveInputs().sourceDateEpoch));
    });
  },
);
