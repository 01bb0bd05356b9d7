import { RELEASE_SOURCE_DATE_EPOCH } from "../../src/environments/build-inputs.js";
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  copyFileSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { Writable } from "node:stream";
import { checkEnvironment, installEntry, makeStaging } from "../../src/environments/index.js";
import { makeRootImage } from "../../src/environments/image.js";
import type { EnvironmentManifest } from "../../src/environments/manifest.js";
import { sha256File } from "../../src/platform/file-digest.js";

/** The environment's name, and what its image asks of the commands run in it. */
export const BUSYBOX_ENVIRONMENT = "busybox-test";
export const BUSYBOX_IMAGE: NonNullable<EnvironmentManifest["image"]> = {
  env: ["PATH=/bin:/sbin", "APP_MODE=test"],
  working_dir: "/srv",
  user: { spec: "app", uid: 1000, gid: 1000 },
  entrypoint: null,
  cmd: ["sh"],
};
const BUSYBOX = "/bin/busybox"; // Debian's busybox-static
const APP = 1000;

export interface BusyboxEnvironment {
  /** The temporary environment cache (PYRO_ENVIRONMENT_CACHE_DIR while it is in use). */
  cacheDir: string;
  /** The installed debian:12's kernel release: the guest's, which the host's is not. */
  kernelRelease: string;
  cleanup(): void;
}

/**
 * A busybox-only environment (no bash, no GNU tools, no curl) installed into a temporary cache,
 * standing in for an imported container image until `env import` exists: busybox-static with a
 * symlink per applet, /etc/passwd and /etc/group with root and `app` (1000), the root image made
 * by makeRootImage, the kernel and initramfs hard-linked from the installed debian:12 of the
 * shared cache (only read there), and a manifest whose `image` names Env, WorkingDir and User.
 * Sets PYRO_ENVIRONMENT_CACHE_DIR until cleanup.
 */
export async function installBusyboxEnvironment(): Promise<BusyboxEnvironment> {
  const debian = await checkEnvironment("debian:12");
  if (debian.status !== "installed") {
    throw new Error("debian:12 is not installed: run `node dist/cli.js env pull debian:12` first");
  }
  const kernel = debian.environment;
  const previous = process.env.PYRO_ENVIRONMENT_CACHE_DIR;
  const cacheDir = mkdtempSync("/tmp/pyro-busybox-cache-");
  const tree = mkdtempSync("/tmp/pyro-busybox-tree-");
  const cleanup = (): void => {
    if (previous === undefined) delete process.env.PYRO_ENVIRONMENT_CACHE_DIR;
    else process.env.PYRO_ENVIRONMENT_CACHE_DIR = previous;
    rmSync(cacheDir, { recursive: true, force: true });
  };
  process.env.PYRO_ENVIRONMENT_CACHE_DIR = cacheDir;
  try {
    buildTree(tree);
    const staging = await makeStaging(BUSYBOX_ENVIRONMENT);
    await makeRootImage({
      mkfsExt4: "mkfs.ext4",
      rootDir: tree,
      imagePath: join(staging, "rootfs.ext4"),
      sizeMiB: 64,
      log: new Writable({ write: (_c, _e, done) => done() }),
      epoch: RELEASE_SOURCE_DATE_EPOCH,
      identity: BUSYBOX_ENVIRONMENT,
    });
    linkOrCopy(kernel.kernelPath, join(staging, "vmlinux"));
    linkOrCopy(kernel.initramfsPath, join(staging, "initramfs.cpio"));
    const rootfs = join(staging, "rootfs.ext4");
    const manifest: EnvironmentManifest = {
      schema: 1,
      name: BUSYBOX_ENVIRONMENT,
      version: "1",
      distribution: "busybox",
      suite: "static",
      description: "busybox-static only (test fixture)",
      packages: ["busybox-static"],
      kernel_release: kernel.kernelRelease,
      built_at: new Date().toISOString(),
      source: "import",
      image: BUSYBOX_IMAGE,
      files: {
        kernel: { ...kernel.manifest.files.kernel, path: "vmlinux" },
        initramfs: { ...kernel.manifest.files.initramfs, path: "initramfs.cpio" },
        rootfs: { path: "rootfs.ext4", sha256: await sha256File(rootfs), size: statSync(rootfs).size },
      },
    };
    writeFileSync(join(staging, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    await installEntry(staging, BUSYBOX_ENVIRONMENT);
    return { cacheDir, kernelRelease: kernel.kernelRelease, cleanup };
  } catch (error) {
    cleanup();
    throw error;
  } finally {
    rmSync(tree, { recursive: true, force: true });
  }
}

/** The root tree: busybox's applets as symlinks where `busybox --list-full` puts them (no chroot). */
function buildTree(root: string): void {
  for (const dir of [
    "bin",
    "sbin",
    "usr/bin",
    "usr/sbin",
    "etc",
    "dev",
    "proc",
    "sys",
    "tmp",
    "run",
    "root",
    "workspace",
  ])
    mkdirSync(join(root, dir), { recursive: true, mode: 0o755 });
  chmodSync(join(root, "tmp"), 0o1777);
  chmodSync(join(root, "root"), 0o700);
  copyFileSync(BUSYBOX, join(root, "bin", "busybox"));
  chmodSync(join(root, "bin", "busybox"), 0o755);
  const applets = execFileSync(BUSYBOX, ["--list-full"], { encoding: "utf8" }).split("\n").filter(Boolean);
  for (const applet of applets) {
    const path = join(root, applet);
    if (applet === "bin/busybox") continue;
    mkdirSync(dirname(path), { recursive: true });
    symlinkSync("/bin/busybox", path);
  }
  writeFileSync(
    join(root, "etc", "passwd"),
    "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n",
  );
  writeFileSync(join(root, "etc", "group"), "root:x:0:\napp:x:1000:\n");
  for (const dir of ["srv", "home/app"]) {
    mkdirSync(join(root, dir), { recursive: true, mode: 0o755 });
    chownSync(join(root, dir), APP, APP);
  }
}

function linkOrCopy(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
  }
}
