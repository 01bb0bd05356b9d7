import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Writable } from "node:stream";
import { findExecutable } from "../platform/find-executable.js";
import { usedInodes } from "./image-inodes.js";
import { runTool } from "./run-tool.js";

export const ROOTFS_LABEL = "pyro-root";

export interface RootImageOptions {
  mkfsExt4: string;
  rootDir: string;
  imagePath: string;
  sizeMiB: number;
  log: Writable;
  /** Seconds since 1970; every inode and superblock time in the image is this. */
  epoch: number;
  /** Seeds the filesystem UUID and the directory hash seed. */
  identity: string;
}

/**
 * mke2fs settings written out rather than read from the host's /etc/mke2fs.conf, so the image
 * does not depend on how the host's e2fsprogs was configured (Debian's 1.47.0 defaults).
 */
const MKE2FS_PROFILE = `[defaults]
	base_features = sparse_super,large_file,filetype,resize_inode,dir_index,ext_attr
	default_mntopts = acl,user_xattr
	enable_periodic_fsck = 0
	blocksize = 4096
	inode_size = 256
	inode_ratio = 16384
	hash_alg = half_md4

[fs_types]
	ext4 = {
		features = has_journal,extent,huge_file,flex_bg,metadata_csum,64bit,dir_nlink,extra_isize
	}
	small = {
		blocksize = 1024
		inode_ratio = 4096
	}
	floppy = {
		blocksize = 1024
		inode_ratio = 8192
	}
	big = {
		inode_ratio = 32768
	}
	huge = {
		inode_ratio = 65536
	}
`;

/**
 * Packs the root tree into a sparse ext4 image whose bytes depend only on the tree's content
 * (names, data, modes, owners, links, xattrs), `sizeMiB`, `epoch` and `identity`:
 * - mke2fs -d walks each directory in sorted order (scandir + alphasort, byte order under
 *   LC_ALL=C), so inode numbers and block placement do not follow the order the tree was made in;
 * - E2FSPROGS_FAKE_TIME gives the superblock, lost+found, the root and every new inode's crtime
 *   the epoch; mke2fs copies atime, mtime and ctime from the host's lstat, and ctime cannot be set
 *   on the host, so debugfs rewrites all four times of every used inode afterwards;
 * - the UUID and hash seed come from `identity`; mke2fs reads pyro's settings, not the host's
 *   mke2fs.conf; the image is a fresh file of holes and nothing depends on whether the host's
 *   file system can discard.
 * Run as root so mkfs keeps every file's owner; `-m 0` reserves no blocks for root.
 */
export async function makeRootImage(options: RootImageOptions): Promise<void> {
  const { mkfsExt4, imagePath, sizeMiB, log, epoch } = options;
  if (!Number.isInteger(epoch) || epoch < 1 || epoch > 0x7fffffff) {
    // 0 would mean "now" to e2fsprogs; ext4's 32-bit seconds end in 2038 without the extra fields.
    throw new RangeError(`root image epoch must be an integer second in 1..2^31-1, got ${epoch}`);
  }
  if (options.identity === "") throw new RangeError("root image identity must not be empty");
  if (!Number.isInteger(sizeMiB) || sizeMiB < 8)
    throw new RangeError(`root image size ${sizeMiB} MiB is too small`);
  const tools = e2fsprogsTools(mkfsExt4);
  await rm(imagePath, { force: true });
  try {
    await runMkfs(options);
    await setInodeTimes(tools, imagePath, epoch, log);
  } catch (error) {
    await rm(imagePath, { force: true });
    throw error;
  }
}

/** mke2fs -d into a fresh file at `imagePath`, with pyro's profile and the identity's UUIDs. */
async function runMkfs(options: RootImageOptions): Promise<void> {
  const { mkfsExt4, rootDir, imagePath, sizeMiB, log, epoch, identity } = options;
  const profilePath = `${imagePath}.mke2fs.conf`;
  const env = {
    E2FSPROGS_FAKE_TIME: String(epoch),
    SOURCE_DATE_EPOCH: String(epoch),
    MKE2FS_CONFIG: profilePath,
  };
  await writeFile(profilePath, MKE2FS_PROFILE);
  try {
    const extended = [
      `hash_seed=${derivedUuid("hash-seed", identity)}`,
      "root_owner=0:0",
      "nodiscard",
      // The image is a fresh file of holes: 1.47's assume_storage_prezeroed leaves its inode
      // tables and journal unwritten; older mke2fs zeroes the tables. The same bytes either way.
      versionAtLeast(await e2fsprogsVersion(mkfsExt4, log), [1, 47])
        ? "assume_storage_prezeroed=1"
        : "lazy_itable_init=0,lazy_journal_init=1",
    ].join(",");
    await runTool(
      mkfsExt4,
      [
        "-q",
        "-F",
        "-t",
        "ext4",
        "-L",
        ROOTFS_LABEL,
        "-m",
        "0",
        "-U",
        derivedUuid("uuid", identity),
        "-E",
        extended,
        "-d",
        rootDir,
        imagePath,
        `${sizeMiB}M`,
      ],
      { log, env },
    );
  } finally {
    await rm(profilePath, { force: true });
  }
}

/** "1.47.0" from `mke2fs -V`. */
export async function e2fsprogsVersion(mkfsExt4: string, log: Writable): Promise<string> {
  let version: string | undefined;
  await runTool(mkfsExt4, ["-V"], {
    log,
    onLine: (line) => {
      version ??= /^mke2fs (\d+\.\d+(?:\.\d+)?)/.exec(line.trim())?.[1];
    },
  });
  if (version === undefined) throw new Error(`cannot read the e2fsprogs version of ${mkfsExt4}`);
  return version;
}

function versionAtLeast(version: string, minimum: [number, number]): boolean {
  const [major = 0, minor = 0] = version.split(".").map(Number);
  return major > minimum[0] || (major === minimum[0] && minor >= minimum[1]);
}

/** debugfs and dumpe2fs from the same e2fsprogs as mkfs.ext4 (its folder first, else PATH). */
function e2fsprogsTools(mkfsExt4: string): { debugfs: string; dumpe2fs: string } {
  const sibling = (tool: string): string => {
    const beside = join(dirname(mkfsExt4), tool);
    if (existsSync(beside)) return beside;
    const found = findExecutable(tool);
    if (found === null) throw new Error(`${tool} (e2fsprogs) not found beside ${mkfsExt4} or on PATH`);
    return found;
  };
  return { debugfs: sibling("debugfs"), dumpe2fs: sibling("dumpe2fs") };
}

/** Sets atime, mtime, ctime and crtime of every used inode to `epoch` in one debugfs run. */
async function setInodeTimes(
  tools: { debugfs: string; dumpe2fs: string },
  imagePath: string,
  epoch: number,
  log: Writable,
): Promise<void> {
  const { stdout } = await runTool(tools.dumpe2fs, [imagePath], { log, captureStdout: true });
  const inodes = usedInodes(stdout);
  const commands = inodes.flatMap((inode) =>
    ["atime", "mtime", "ctime", "crtime"].map((field) => `set_inode_field <${inode}> ${field} @${epoch}\n`),
  );
  const scriptPath = `${imagePath}.debugfs`;
  await writeFile(scriptPath, commands.join(""));
  // debugfs echoes each command on stdout and exits 0 even when a command fails: its stderr says.
  const problems: string[] = [];
  try {
    await runTool(tools.debugfs, ["-w", "-f", scriptPath, imagePath], {
      log,
      env: { E2FSPROGS_FAKE_TIME: String(epoch) },
      stdoutFile: "/dev/null",
      onLine: (line) => {
        if (line.trim() !== "" && !/^debugfs \S+ \(/.test(line)) problems.push(line);
      },
    });
  } finally {
    await rm(scriptPath, { force: true });
  }
  if (problems.length > 0)
    throw new Error(`debugfs could not set inode times: ${problems.slice(0, 4).join("; ")}`);
  log.write(`pyro: times of ${inodes.length} inodes set to ${epoch}\n`);
}

/** A UUID (RFC 9562 version 8: custom) derived from `identity`, different for each purpose. */
export function derivedUuid(purpose: string, identity: string): string {
  const bytes = createHash("sha256").update(`pyro-rootfs-${purpose}\0${identity}`).digest().subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
