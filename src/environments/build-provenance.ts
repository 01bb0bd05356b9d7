import type { Writable } from "node:stream";
import type { ArchiveInputs } from "./build-inputs.js";
import type { EnvironmentSpec } from "./catalog.js";
import { e2fsprogsVersion } from "./image.js";
import type { Provenance } from "./manifest-schema.js";
import { runTool } from "./run-tool.js";

/** Every input that decides a built environment's bytes; equal inputs give equal digests. */
export type BuildInputs = Extract<Provenance, { kind: "built" }>["inputs"];

export interface BuildToolVersions {
  /** "1.3.5" */
  mmdebstrap: string;
  /** "1.47.0" */
  e2fsprogs: string;
}

export async function buildToolVersions(
  tools: { mmdebstrap: string; "mkfs.ext4": string },
  log: Writable,
): Promise<BuildToolVersions> {
  return {
    mmdebstrap: await mmdebstrapVersion(tools.mmdebstrap, log),
    e2fsprogs: await e2fsprogsVersion(tools["mkfs.ext4"], log),
  };
}

/** "linux-image-6.1.0-28-cloud-amd64=6.1.119-1" from the .deb's control fields. */
export async function kernelPackageVersion(dpkgDeb: string, debPath: string, log: Writable): Promise<string> {
  const { stdout } = await runTool(dpkgDeb, ["--show", "--showformat=${Package}=${Version}", debPath], {
    log,
    captureStdout: true,
  });
  const value = stdout.trim();
  if (!/^[a-z0-9][a-z0-9.+-]*=[A-Za-z0-9.+~:-]+$/.test(value)) {
    throw new Error(`unexpected kernel package name and version "${value.slice(0, 200)}"`);
  }
  return value;
}

export function builtInputs(
  spec: EnvironmentSpec,
  archive: ArchiveInputs,
  kernelPackage: string,
  versions: BuildToolVersions,
): BuildInputs {
  return {
    suite: spec.suite,
    mirror: archive.mirror,
    security_mirror: archive.securityMirror,
    snapshot: archive.snapshot,
    source_date_epoch: archive.sourceDateEpoch,
    packages: [...spec.packages],
    kernel_package: kernelPackage,
    mmdebstrap: versions.mmdebstrap,
    e2fsprogs: versions.e2fsprogs,
  };
}

async function mmdebstrapVersion(mmdebstrap: string, log: Writable): Promise<string> {
  let version: string | undefined;
  await runTool(mmdebstrap, ["--version"], {
    log,
    onLine: (line) => {
      version ??= /^mmdebstrap (\S+)$/.exec(line.trim())?.[1];
    },
  });
  if (version === undefined) throw new Error(`cannot read the version of ${mmdebstrap}`);
  return version;
}
