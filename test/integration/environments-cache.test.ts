import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { link, mkdir, mkdtemp, readdir, rm, stat, truncate, unlink, writeFile, open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  checkEnvironment,
  ensureEnvironment,
  inspectEnvironment,
  listEnvironments,
  pruneEnvironments,
  resolveInstalled,
} from "../../src/environments/index.js";
import { sha256File } from "../../src/platform/file-digest.js";
import type { EnvironmentManifest } from "../../src/environments/manifest.js";
import { environmentPaths } from "../../src/environments/paths.js";
import { PyroError } from "../../src/errors/index.js";
import { packageVersion } from "../../src/platform/package-info.js";

// Call through to the real hashing, but count the calls: the stamp must spare re-hashing.
vi.mock("../../src/platform/file-digest.js", { spy: true });
const hashCalls = (): number => vi.mocked(sha256File).mock.calls.length;

let cacheDir: string;
const savedCacheDir = process.env.PYRO_ENVIRONMENT_CACHE_DIR;

beforeEach(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), "pyro-env-cache-"));
  process.env.PYRO_ENVIRONMENT_CACHE_DIR = cacheDir;
  vi.mocked(sha256File).mockClear();
});

afterEach(async () => {
  if (savedCacheDir === undefined) delete process.env.PYRO_ENVIRONMENT_CACHE_DIR;
  else process.env.PYRO_ENVIRONMENT_CACHE_DIR = savedCacheDir;
  await rm(cacheDir, { recursive: true, force: true });
});

/** A small but well-formed entry: random kernel and initramfs, a sparse 8 MiB "rootfs". */
async function writeFakeEntry(
  name = "debian:12",
  edit: (manifest: EnvironmentManifest) => void = () => undefined,
): Promise<string> {
  const dir = environmentPaths(name).entryDir;
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "vmlinux"), randomBytes(4096));
  await writeFile(join(dir, "initramfs.cpio"), randomBytes(1024));
  await writeFile(join(dir, "rootfs.ext4"), randomBytes(512));
  await truncate(join(dir, "rootfs.ext4"), 8 * 1024 * 1024);
  const record = async (path: string) => ({
    path,
    sha256: await sha256File(join(dir, path)),
    size: (await stat(join(dir, path))).size,
  });
  const manifest: EnvironmentManifest = {
    schema: 1,
    name,
    version: packageVersion(),
    distribution: "debian",
    suite: "bookworm",
    description: "fake",
    packages: ["git"],
    kernel_release: "6.1.0-99-cloud-amd64",
    built_at: new Date().toISOString(),
    source: "local-build",
    files: {
      kernel: await record("vmlinux"),
      initramfs: await record("initramfs.cpio"),
      rootfs: await record("rootfs.ext4"),
    },
  };
  edit(manifest);
  await writeFile(join(dir, "manifest.json"), JSON.stringify(manifest));
  vi.mocked(sha256File).mockClear();
  return dir;
}

/** Overwrites bytes in place: same size, new content. */
async function scribble(path: string, position: number): Promise<void> {
  const file = await open(path, "r+");
  await file.write(Buffer.from("damage"), 0, 6, position);
  await file.close();
}

function deadPid(): number {
  const child = spawnSync("true");
  return child.pid ?? 999_999;
}

describe("verification of installed entries", () => {
  it("reports a missing entry as not installed", async () => {
    expect(await checkEnvironment("debian:12")).toEqual({ status: "not-installed" });
    expect(await resolveInstalled("debian:12")).toBeNull();
  });

  it("hashes a fresh entry once, then trusts the stamp while nothing changes", async () => {
    const dir = await writeFakeEntry();
    const installed = await resolveInstalled("debian:12");
    expect(installed).toMatchObject({
      name: "debian:12",
      version: packageVersion(),
      dir,
      kernelPath: join(dir, "vmlinux"),
      initramfsPath: join(dir, "initramfs.cpio"),
      rootfsPath: join(dir, "rootfs.ext4"),
      kernelRelease: "6.1.0-99-cloud-amd64",
    });
    expect(hashCalls()).toBe(3);
    expect(await stat(join(dir, "verified.json"))).toBeTruthy();

    await resolveInstalled("debian:12");
    await resolveInstalled("debian:12");
    expect(hashCalls()).toBe(3);
  });

  it("re-hashes when the stamp is missing", async () => {
    const dir = await writeFakeEntry();
    await resolveInstalled("debian:12");
    await unlink(join(dir, "verified.json"));
    expect(await resolveInstalled("debian:12")).not.toBeNull();
    expect(hashCalls()).toBe(6);
  });

  it("detects a truncated file without hashing", async () => {
    const dir = await writeFakeEntry();
    await resolveInstalled("debian:12");
    await truncate(join(dir, "rootfs.ext4"), 4096);
    const state = await checkEnvironment("debian:12");
    expect(state).toMatchObject({
      status: "corrupt",
      problem: expect.stringMatching(/rootfs\.ext4: 4096 bytes/),
    });
    expect(await resolveInstalled("debian:12")).toBeNull();
  });

  it("detects same-size damage after the stamp was written: the changed stat forces a re-hash", async () => {
    const dir = await writeFakeEntry();
    await resolveInstalled("debian:12");
    await scribble(join(dir, "vmlinux"), 100);
    expect(await checkEnvironment("debian:12")).toMatchObject({
      status: "corrupt",
      problem: "vmlinux: sha256 does not match the manifest",
    });
  });

  it("remembers a digest failure while the files stay the same, and looks again when they change", async () => {
    const dir = await writeFakeEntry();
    await scribble(join(dir, "initramfs.cpio"), 0);
    await checkEnvironment("debian:12");
    const afterFirst = hashCalls();
    expect(await checkEnvironment("debian:12")).toMatchObject({ status: "corrupt" });
    expect(hashCalls()).toBe(afterFirst);

    await writeFakeEntry(); // repaired: new files, new identities
    expect(await checkEnvironment("debian:12")).toMatchObject({ status: "installed" });
  });

  it("treats a folder without a manifest as a partial, corrupt entry", async () => {
    const dir = environmentPaths("debian:12").entryDir;
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "vmlinux"), "x");
    expect(await checkEnvironment("debian:12")).toMatchObject({
      status: "corrupt",
      problem: "manifest.json: missing (partial entry)",
    });
  });

  it("rejects a manifest for another environment, and file paths that leave the entry", async () => {
    await writeFakeEntry("debian:12", (manifest) => {
      manifest.name = "debian:12-base";
    });
    expect(await checkEnvironment("debian:12")).toMatchObject({ status: "corrupt" });

    await writeFakeEntry("debian:12-base", (manifest) => {
      manifest.files.kernel.path = "../../vmlinux";
    });
    expect(await checkEnvironment("debian:12-base")).toMatchObject({
      status: "corrupt",
      problem: expect.stringContaining("plain file name"),
    });
  });

  it("rejects a symlink in place of a file", async () => {
    const dir = await writeFakeEntry();
    await rm(join(dir, "vmlinux"));
    spawnSync("ln", ["-s", "/bin/sh", join(dir, "vmlinux")]);
    expect(await checkEnvironment("debian:12")).toMatchObject({
      status: "corrupt",
      problem: "vmlinux: missing or not a regular file",
    });
  });
});

describe("inspect and list", () => {
  it("inspects an installed environment with every field the CLI shows", async () => {
    const dir = await writeFakeEntry();
    const details = await inspectEnvironment("debian:12");
    expect(details).toEqual({
      name: "debian:12",
      version: packageVersion(),
      distribution: "debian",
      suite: "bookworm",
      description: "Debian 12 with git preinstalled",
      default: true,
      default_packages: ["git", "ca-certificates"],
      installed: true,
      status: "installed",
      problem: null,
      cache_dir: cacheDir,
      install_dir: dir,
      manifest: join(dir, "manifest.json"),
      kernel_image: join(dir, "vmlinux"),
      initramfs: join(dir, "initramfs.cpio"),
      rootfs_image: join(dir, "rootfs.ext4"),
      kernel_release: "6.1.0-99-cloud-amd64",
      source: "local-build",
      built_at: expect.any(String),
      origin: "built locally",
      provenance: null,
      image: null,
      artifacts: [
        { role: "kernel", path: "vmlinux", size: 4096, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
        {
          role: "initramfs",
          path: "initramfs.cpio",
          size: 1024,
          sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
        },
        {
          role: "rootfs",
          path: "rootfs.ext4",
          size: 8388608,
          sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
        },
      ],
    });
  });

  it("inspects a missing environment with its would-be install dir and no files", async () => {
    const details = await inspectEnvironment("debian:12-build");
    expect(details).toMatchObject({
      installed: false,
      status: "not-installed",
      install_dir: join(cacheDir, "debian_12-build", packageVersion()),
      manifest: null,
      kernel_image: null,
      rootfs_image: null,
      default_packages: expect.arrayContaining(["build-essential"]),
    });
  });

  it("lists the catalog with installed state", async () => {
    await writeFakeEntry("debian:12-base");
    const list = await listEnvironments();
    expect(list.map((item) => [item.name, item.installed, item.default])).toEqual([
      ["debian:12", false, true],
      ["debian:12-base", true, false],
      ["debian:12-build", false, false],
    ]);
  });

  it("rejects unknown names", async () => {
    await expect(inspectEnvironment("alpine:3")).rejects.toMatchObject({ code: "ENVIRONMENT_UNKNOWN" });
  });
});

describe("ensureEnvironment", () => {
  it("returns an installed entry without building", async () => {
    const dir = await writeFakeEntry();
    const phases: string[] = [];
    const installed = await ensureEnvironment("debian:12", { onPhase: (phase) => phases.push(phase) });
    expect(installed.dir).toBe(dir);
    expect(phases).toEqual([]);
  });

  it("never returns a corrupt entry: it reports a rebuild (as root) or says how to repair it", async () => {
    const dir = await writeFakeEntry();
    await truncate(join(dir, "initramfs.cpio"), 10);
    const phases: Array<[string, unknown]> = [];
    const savedPath = process.env.PATH;
    process.env.PATH = ""; // no build tools on PATH: the rebuild stops right after it is reported
    try {
      const error = await ensureEnvironment("debian:12", {
        onPhase: (phase, detail) => phases.push([phase, detail]),
      }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(PyroError);
      if (process.getuid?.() === 0) {
        expect((error as PyroError).code).toBe("DEPENDENCY_MISSING");
        expect((error as PyroError).hint).toMatch(/apt-get install .*mmdebstrap/);
        expect(phases).toEqual([
          ["rebuild", { environment: "debian:12", reason: expect.stringContaining("initramfs.cpio") }],
        ]);
      } else {
        expect((error as PyroError).code).toBe("ENVIRONMENT_CORRUPT");
      }
    } finally {
      process.env.PATH = savedPath;
    }
  });
});

describe("pruneEnvironments", () => {
  it("removes leftovers, stale locks, other versions and corrupt entries, and keeps valid ones", async () => {
    const valid = await writeFakeEntry("debian:12");
    const root = environmentPaths("debian:12").environmentRoot;
    const staging = join(root, ".staging-0.1.0-123-abc");
    await mkdir(join(staging, "root/etc"), { recursive: true });
    await mkdir(join(root, ".old-123-abcd"));
    await writeFile(join(root, "last-failed-build.log"), "E: failed");
    await mkdir(join(root, "0.0.1"));
    await writeFile(
      environmentPaths("debian:12").lockPath,
      JSON.stringify({ pid: deadPid(), token: "t", host: "h", started_at: "" }),
    );
    const corrupt = environmentPaths("debian:12-base").entryDir;
    await mkdir(corrupt, { recursive: true });
    await mkdir(join(cacheDir, "not-ours"));

    const report = await pruneEnvironments();

    expect(report.skipped).toEqual([]);
    expect(report.removed.map((item) => item.path).sort()).toEqual(
      [
        environmentPaths("debian:12").lockPath,
        staging,
        join(root, ".old-123-abcd"),
        join(root, "last-failed-build.log"),
        join(root, "0.0.1"),
        corrupt,
      ].sort(),
    );
    expect(await readdir(root)).toEqual([packageVersion()]);
    expect(await resolveInstalled("debian:12")).toMatchObject({ dir: valid });
    expect(await readdir(cacheDir)).toEqual(expect.arrayContaining(["not-ours"]));
  });

  it("leaves an environment alone while a live build holds its lock", async () => {
    const root = environmentPaths("debian:12").environmentRoot;
    await mkdir(join(root, ".staging-0.1.0-1-x"), { recursive: true });
    await writeFile(
      environmentPaths("debian:12").lockPath,
      JSON.stringify({ pid: process.pid, token: "other", host: "h", started_at: "" }),
    );
    const report = await pruneEnvironments();
    expect(report.removed).toEqual([]);
    expect(report.skipped).toEqual([{ path: root, reason: `a build is running (pid ${process.pid})` }]);
    expect(await readdir(root)).toContain(".staging-0.1.0-1-x");
  });

  it("cleans folders of names outside the catalog too, sparing a staging folder a live process fills", async () => {
    const imported = join(cacheDir, "alpine:3.20".replace(":", "_"));
    const dead = join(imported, `.staging-${deadPid()}-Abc123`);
    const live = join(imported, `.staging-push-${process.pid}-Xyz789`);
    await mkdir(dead, { recursive: true });
    await mkdir(live, { recursive: true });
    await writeFile(join(cacheDir, "blobs-not"), "");
    await mkdir(join(cacheDir, "blobs", "sha256"), { recursive: true });
    await writeFile(join(cacheDir, "blobs", "sha256", "a".repeat(64)), "unused");

    const report = await pruneEnvironments();

    expect(report.removed.map((item) => item.path)).toEqual([dead]);
    // While a push stages, blobs it may be reading stay.
    expect(report.skipped).toEqual([
      { path: join(cacheDir, "blobs"), reason: "alpine_3.20 is being pulled, imported or pushed" },
    ]);
    expect(await readdir(imported)).toEqual([live.slice(imported.length + 1)]);
  });

  it("removes blobs no installed environment links and interrupted downloads, keeping linked ones", async () => {
    const valid = await writeFakeEntry("debian:12");
    const blobs = join(cacheDir, "blobs");
    await mkdir(join(blobs, "sha256"), { recursive: true });
    await mkdir(join(blobs, ".partial"));
    const linked = join(blobs, "sha256", "b".repeat(64));
    await link(join(valid, "vmlinux"), linked);
    const unused = join(blobs, "sha256", "c".repeat(64));
    await writeFile(unused, "layer of an image no entry uses");
    const interrupted = join(blobs, ".partial", "d".repeat(64));
    await writeFile(interrupted, "half");
    const downloading = join(blobs, ".partial", "e".repeat(64));
    await writeFile(downloading, "half");
    await writeFile(
      `${downloading}.lock`,
      JSON.stringify({ pid: process.pid, token: "t", host: "h", started_at: "" }),
    );

    const report = await pruneEnvironments();

    expect(report.skipped).toEqual([]);
    expect(report.removed.map((item) => item.path).sort()).toEqual([interrupted, unused].sort());
    expect((await readdir(join(blobs, "sha256"))).sort()).toEqual(["b".repeat(64)]);
    expect((await readdir(join(blobs, ".partial"))).sort()).toEqual([
      "e".repeat(64),
      `${"e".repeat(64)}.lock`,
    ]);
    expect(await resolveInstalled("debian:12")).toMatchObject({ dir: valid });
  });

  it("does nothing to an empty cache", async () => {
    expect(await pruneEnvironments()).toEqual({ removed: [], skipped: [] });
  });
});
