import { chmod, mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Writable } from "node:stream";
import { debianSources, type ArchiveInputs } from "./build-inputs.js";
import type { EnvironmentSpec } from "./catalog.js";
import { runTool } from "./run-tool.js";

/** Documentation, manual pages and translations are dropped: about a quarter of minbase, unused by agents. */
const DPKG_PATH_FILTERS = [
  "path-exclude=/usr/share/doc/*",
  "path-include=/usr/share/doc/*/copyright",
  "path-exclude=/usr/share/man/*",
  "path-exclude=/usr/share/info/*",
  "path-exclude=/usr/share/locale/*",
];

/**
 * Runs inside mmdebstrap's customize phase, while the chroot still has its apt lists: resolves the
 * cloud kernel that the archive's linux-image-cloud-amd64 points at and downloads that .deb, so the
 * kernel comes from the same archive snapshot as the root filesystem. $1 = chroot, $2 = output path.
 */
const FETCH_KERNEL_HOOK = `set -eu
root="$1"; out="$2"
pkg=$(chroot "$root" apt-cache depends linux-image-cloud-amd64 \\
  | sed -n 's/^ *Depends: \\(linux-image-[0-9][^ ]*-cloud-amd64\\)$/\\1/p' | head -n 1)
if [ -z "$pkg" ]; then echo "pyro: cannot resolve the package behind linux-image-cloud-amd64" >&2; exit 1; fi
echo "pyro: kernel package $pkg"
chroot "$root" sh -c 'cd /tmp && apt-get download "$1"' sh "$pkg"
mv "$root"/tmp/"$pkg"_*.deb "$out"
`;

export interface RootfsBuild {
  spec: EnvironmentSpec;
  archive: ArchiveInputs;
  mmdebstrap: string;
  /** Must not exist yet; mmdebstrap creates it. */
  rootDir: string;
  /** Where the kernel .deb lands. */
  kernelDebPath: string;
  /** Scratch directory for the hook script. */
  workDir: string;
  log: Writable;
  onLine(line: string): void;
}

/** Bootstraps the root tree and downloads the matching kernel package in the same run. */
export async function bootstrapRootfs(build: RootfsBuild): Promise<void> {
  const hookPath = join(build.workDir, "fetch-kernel.sh");
  await writeFile(hookPath, FETCH_KERNEL_HOOK);
  // With SOURCE_DATE_EPOCH set, mmdebstrap drops logs, caches and the machine-id, and the
  // packages' scripts (shadow's password dates, Python's byte code) stamp that time, not now.
  await runTool(build.mmdebstrap, mmdebstrapArguments(build, hookPath), {
    log: build.log,
    onLine: build.onLine,
    env: { SOURCE_DATE_EPOCH: String(build.archive.sourceDateEpoch) },
  });
  await rm(hookPath);
  await finishRootTree(build.rootDir);
}

export function mmdebstrapArguments(
  build: Pick<RootfsBuild, "spec" | "archive" | "rootDir" | "kernelDebPath">,
  hookPath: string,
): string[] {
  return [
    // unshare mode as root: real ownership, but mmdebstrap's /proc, /sys and /dev mounts live in a
    // private mount namespace, so a killed build cannot leave host mounts inside the staging dir.
    "--mode=unshare",
    "--format=directory",
    "--variant=minbase",
    "--verbose",
    '--aptopt=Acquire::Retries "3"',
    // A snapshot's Release files expired long ago; the pinned time is the point.
    ...(build.archive.snapshot !== null ? ['--aptopt=Acquire::Check-Valid-Until "false"'] : []),
    ...DPKG_PATH_FILTERS.map((filter) => `--dpkgopt=${filter}`),
    ...(build.spec.packages.length > 0 ? [`--include=${build.spec.packages.join(",")}`] : []),
    `--customize-hook=sh ${shellWord(hookPath)} "$1" ${shellWord(build.kernelDebPath)}`,
    build.spec.suite,
    build.rootDir,
    ...debianSources(build.spec.suite, build.archive),
  ];
}

/** What pyro's guests expect beyond a plain bootstrap (mmdebstrap already emptied apt's lists and caches). */
async function finishRootTree(rootDir: string): Promise<void> {
  await chmod(rootDir, 0o755);
  await mkdir(join(rootDir, "workspace"), { recursive: true });
  await chmod(join(rootDir, "workspace"), 0o755);
  // mmdebstrap copied the build host's hostname and resolver (with the host's modes); the guest's
  // resolver comes from its network setup at boot. Fixed content and modes keep builds reproducible.
  const files = {
    "etc/hostname": "pyro\n",
    "etc/hosts": "127.0.0.1\tlocalhost\n127.0.1.1\tpyro\n::1\tlocalhost ip6-localhost ip6-loopback\n",
    "etc/resolv.conf": "",
  };
  for (const [path, content] of Object.entries(files)) {
    // Removed first: written through a symlink in the tree, they could land on the host.
    await rm(join(rootDir, path), { force: true });
    await writeFile(join(rootDir, path), content);
    await chmod(join(rootDir, path), 0o644);
  }
}

function shellWord(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
