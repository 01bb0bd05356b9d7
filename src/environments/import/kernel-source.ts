import { copyFileSync, linkSync } from "node:fs";
import { join, resolve } from "node:path";
import { PyroError } from "../../errors/index.js";
import { resolveInstalled } from "../cache.js";
import { installedEnvironment, type InstalledEnvironment } from "../installed.js";
import { readManifest } from "../manifest.js";
import { pullEnvironment } from "../pull-environment.js";
import { checkEntry } from "../verify.js";
import type { ManifestFileRecord } from "../manifest-schema.js";

/** Installed catalog environments whose kernel an import may boot with, in order of preference. */
const KERNEL_DONORS = ["debian:12-base", "debian:12", "debian:12-build"] as const;

/**
 * The installed environment that lends an import its kernel and initramfs: the entry folder named
 * by PYRO_IMPORT_KERNEL_DIR (an environment of another cache), else an installed catalog
 * environment, else debian:12-base pulled now (from the catalog's registry, or built where there is none).
 */
export async function findKernelDonor(env: NodeJS.ProcessEnv = process.env): Promise<InstalledEnvironment> {
  const dir = env.PYRO_IMPORT_KERNEL_DIR;
  if (dir) return donorAt(resolve(dir));
  for (const name of KERNEL_DONORS) {
    const installed = await resolveInstalled(name);
    if (installed) return installed;
  }
  return (await pullEnvironment({ target: KERNEL_DONORS[0] })).environment;
}

async function donorAt(dir: string): Promise<InstalledEnvironment> {
  let name: string;
  try {
    name = readManifest(dir).name;
  } catch (error) {
    throw notADonor(dir, error instanceof Error ? error.message : String(error));
  }
  const check = await checkEntry(dir, name);
  if (check.status === "valid") return installedEnvironment(dir, check.manifest);
  throw notADonor(dir, check.status === "corrupt" ? check.problem : "missing");
}

function notADonor(dir: string, problem: string): PyroError {
  return new PyroError(
    "INVALID_ARGUMENT",
    `PYRO_IMPORT_KERNEL_DIR=${dir} is not an installed environment: ${problem}.`,
    {
      hint: "Point it at an environment's entry folder (the one holding manifest.json), or unset it.",
    },
  );
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
