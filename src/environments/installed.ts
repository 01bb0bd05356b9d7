import { join } from "node:path";
import type { EnvironmentManifest } from "./manifest.js";

/** A complete, verified environment entry: everything a VM backend needs to boot it. */
export interface InstalledEnvironment {
  name: string;
  version: string;
  dir: string;
  kernelPath: string;
  initramfsPath: string;
  rootfsPath: string;
  kernelRelease: string;
  manifest: EnvironmentManifest;
}

export function installedEnvironment(dir: string, manifest: EnvironmentManifest): InstalledEnvironment {
  return {
    name: manifest.name,
    version: manifest.version,
    dir,
    kernelPath: join(dir, manifest.files.kernel.path),
    initramfsPath: join(dir, manifest.files.initramfs.path),
    rootfsPath: join(dir, manifest.files.rootfs.path),
    kernelRelease: manifest.kernel_release,
    manifest,
  };
}
