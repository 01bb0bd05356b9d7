import { copyFileSync, linkSync } from "node:fs";
import { join } from "node:path";
import { ensureEnvironment, resolveInstalled } from "../cache.js";
import type { InstalledEnvironment } from "../installed.js";
import type { ManifestFileRecord } from "../manifest-schema.js";

/** Installed catalog environments whose kernel an import may boot with, in order of preference. */
const KERNEL_DONORS = ["debian:12-base", "debian:12", "debian:12-build"] as const;

/** The installed environment that lends an import its kernel and initramfs (built if none is). */
export async function findKernelDonor(): Promise<InstalledEnvironment> {
  for (const name of KERNEL_DONORS) {
    const installed = await resolveInstalled(name);
    if (installed) return installed;
  }
  return ensureEnvironment(KERNEL_DONORS[0]);
}

/** "debian:12-base@sha256:…", the donor's kernel digest: what `provenance.kernel_from` records. */
export function kernelOrigin(donor: InstalledEnvironment): string {
  return `${donor.name}@sha256:${donor.manifest.files.kernel.sha256}`;
}

/**
 * Puts the donor's kernel and initramfs into `staging` under their own names: hard links when the
 * donor is on the same file system (no bytes copied, and a later rebuild of the donor replaces its
 * files rather than changing these), copies otherwise. Returns their manifest records.
 */
export function adoptKernel(
  donor: InstalledEnvironment,
  staging: string,
): { kernel: ManifestFileRecord; initramfs: ManifestFileRecord } {
  const { kernel, initramfs } = donor.manifest.files;
  linkOrCopy(donor.kernelPath, join(staging, kernel.path));
  linkOrCopy(donor.initramfsPath, join(staging, initramfs.path));
  return { kernel: { ...kernel }, initramfs: { ...initramfs } };
}

function linkOrCopy(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EXDEV" && code !== "EPERM" && code !== "EMLINK" && code !== "EACCES") throw error;
    copyFileSync(from, to);
  }
}
