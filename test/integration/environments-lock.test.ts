import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, stat, truncate, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildEnvironment } from "../../src/environments/build.js";
import { acquireLock, tryAcquireLock } from "../../src/environments/lock.js";
import { environmentPaths } from "../../src/environments/paths.js";
import { findExecutable } from "../../src/platform/find-executable.js";
import { packageVersion } from "../../src/platform/package-info.js";
import { writeJsonAtomic } from "../../src/platform/atomic-file.js";
import { sha256File } from "../../src/platform/file-digest.js";

let dir: string;
let lockPath: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "pyro-lock-"));
  lockPath = join(dir, ".build.lock");
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const holderJson = (pid: number, token = "someone-else"): string =>
  JSON.stringify({ pid, token, host: "h", started_at: new Date().toISOString() });

function deadPid(): number {
  return spawnSync("true").pid ?? 999_999;
}

describe("build lock", () => {
  it("is exclusive until released", async () => {
    const first = await tryAcquireLock(lockPath);
    expect(first).toBeDefined();
    expect(JSON.parse(await readFile(lockPath, "utf8"))).toMatchObject({ pid: process.pid });
    expect(await tryAcquireLock(lockPath)).toBeUndefined();
    await first?.release();
    const second = await tryAcquireLock(lockPath);
    expect(second).toBeDefined();
    await second?.release();
    await expect(stat(lockPath)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("lets exactly one of many simultaneous takers win", async () => {
    const results = await Promise.all(Array.from({ length: 12 }, () => tryAcquireLock(lockPath)));
    expect(results.filter((handle) => handle !== undefined)).toHaveLength(1);
  });

  it("takes over a lock whose holder is dead, and says so", async () => {
    const pid = deadPid();
    await writeFile(lockPath, holderJson(pid));
    const handle = await tryAcquireLock(lockPath);
    expect(handle?.replacedStale?.pid).toBe(pid);
    await handle?.release();
  });

  it("respects a live holder", async () => {
    await writeFile(lockPath, holderJson(process.pid));
    expect(await tryAcquireLock(lockPath)).toBeUndefined();
  });

  it("waits on an unreadable lock while it is fresh (its writer may be mid-write), then takes it over", async () => {
    await writeFile(lockPath, "");
    expect(await tryAcquireLock(lockPath)).toBeUndefined();
    const aMinuteAgo = new Date(Date.now() - 60_000);
    await utimes(lockPath, aMinuteAgo, aMinuteAgo);
    expect(await tryAcquireLock(lockPath)).toBeDefined();
  });

  it("does not delete a lock that is no longer its own", async () => {
    const handle = await tryAcquireLock(lockPath);
    await writeFile(lockPath, holderJson(process.pid, "new-owner"));
    await handle?.release();
    expect(JSON.parse(await readFile(lockPath, "utf8"))).toMatchObject({ token: "new-owner" });
  });

  it("waits for the holder, reporting the wait once", async () => {
    const held = await tryAcquireLock(lockPath);
    const waits: Array<number | undefined> = [];
    setTimeout(() => void held?.release(), 300);
    const handle = await acquireLock(lockPath, {
      timeoutMs: 5000,
      pollMs: 50,
      onWait: (holder) => waits.push(holder?.pid),
    });
    expect(waits).toEqual([process.pid]);
    await handle.release();
  });

  it("gives up after the timeout with ENVIRONMENT_BUSY naming the lock", async () => {
    await writeFile(lockPath, holderJson(process.pid));
    await expect(acquireLock(lockPath, { timeoutMs: 200, pollMs: 50 })).rejects.toMatchObject({
      code: "ENVIRONMENT_BUSY",
      message: expect.stringContaining(lockPath),
    });
  });
});

const canBuild =
  process.getuid?.() === 0 &&
  ["mmdebstrap", "mkfs.ext4", "lz4", "depmod", "modprobe", "dpkg-deb"].every((tool) => findExecutable(tool));

describe.skipIf(!canBuild)("a second builder (needs root and the build tools; builds nothing)", () => {
  const savedCacheDir = process.env.PYRO_ENVIRONMENT_CACHE_DIR;
  afterEach(() => {
    if (savedCacheDir === undefined) delete process.env.PYRO_ENVIRONMENT_CACHE_DIR;
    else process.env.PYRO_ENVIRONMENT_CACHE_DIR = savedCacheDir;
  });

  it("waits for the build in progress and returns the environment it installed", async () => {
    process.env.PYRO_ENVIRONMENT_CACHE_DIR = dir;
    const paths = environmentPaths("debian:12");
    await mkdir(paths.environmentRoot, { recursive: true });
    await writeFile(paths.lockPath, holderJson(process.pid));
    const phases: string[] = [];

    const installed = await buildEnvironment("debian:12", {
      lockTimeoutMs: 10_000,
      onPhase: (phase) => {
        phases.push(phase);
        // The "other builder" finishes: installs the entry, then releases its lock.
        if (phase === "wait-lock") void installFakeEntry(paths.entryDir).then(() => rm(paths.lockPath));
      },
    });

    expect(phases).toEqual(["wait-lock"]);
    expect(installed.dir).toBe(paths.entryDir);
  });
});

async function installFakeEntry(entryDir: string): Promise<void> {
  await mkdir(entryDir, { recursive: true });
  const files = { kernel: "vmlinux", initramfs: "initramfs.cpio", rootfs: "rootfs.ext4" } as const;
  for (const file of Object.values(files)) await writeFile(join(entryDir, file), file);
  await truncate(join(entryDir, files.rootfs), 1 << 20);
  const record = async (path: string) => ({
    path,
    sha256: await sha256File(join(entryDir, path)),
    size: (await stat(join(entryDir, path))).size,
  });
  writeJsonAtomic(join(entryDir, "manifest.json"), {
    schema: 1,
    name: "debian:12",
    version: packageVersion(),
    distribution: "debian",
    suite: "bookworm",
    description: "fake",
    packages: [],
    kernel_release: "6.1.0-99-cloud-amd64",
    built_at: new Date().toISOString(),
    source: "local-build",
    files: {
      kernel: await record(files.kernel),
      initramfs: await record(files.initramfs),
      rootfs: await record(files.rootfs),
    },
  });
}
