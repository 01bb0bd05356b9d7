import { execFile } from "node:child_process";
import { existsSync, linkSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { z } from "zod";
import { PyroError } from "../../errors/index.js";
import { requireExecutable } from "../../platform/find-executable.js";
import type { MachineDisk } from "../types.js";

const run = promisify(execFile);

const DISK = "disk.qcow2";
const RAW_BASE = "base.ext4";
const QCOW2_BASE = "base.qcow2";

/** A read-only base shared by hard link, or copied sparsely across file systems. */
async function linkInto(from: string, to: string): Promise<void> {
  rmSync(to, { force: true });
  try {
    linkSync(from, to);
  } catch {
    await run("cp", ["--sparse=always", "--reflink=auto", from, to]);
  }
}

const BackingInfo = z.object({
  "backing-filename": z.string().optional(),
  "backing-filename-format": z.string().optional(),
});

/**
 * Only one level of qcow2 base is supported: its backing must be the raw base beside it. A VM's
 * own disk (backed by base.qcow2) as a base would, once linked, name itself as its backing file,
 * and qemu-img then loops forever; a saved VM's disk is copied (`copy`) instead.
 */
async function requireRawBacking(qemuImg: string, path: string): Promise<void> {
  const { stdout } = await run(qemuImg, ["info", "--output=json", path]);
  const info = BackingInfo.parse(JSON.parse(stdout));
  if (info["backing-filename"] !== RAW_BASE || info["backing-filename-format"] !== "raw") {
    throw new PyroError(
      "INTERNAL",
      `a qcow2 base must be backed by its raw ${RAW_BASE}, not ${info["backing-filename"] ?? "nothing"}`,
    );
  }
}

/** The root disk as a qcow2 overlay: it takes every write, the base image is only ever read. */
export const qcow2Overlay: MachineDisk = {
  kind: "qcow2-overlay",

  imageFile: (dir) => join(dir, DISK),

  async create(dir, base) {
    if (base === null) throw new PyroError("INTERNAL", "a qcow2 overlay needs a base image");
    const qemuImg = requireExecutable("qemu-img", "qemu-utils");
    // The base is a hard link in the VM's own folder, so rebuilding or pruning the cached
    // environment (or a saved disk) never changes or removes the disk under an existing VM (a
    // copy where the two are on different filesystems). A qcow2 base (a template's saved disk)
    // reads its own raw base by a name relative to itself: that one comes along too. Backing
    // files are named relative to the overlay, so a folder can move or be copied whole.
    if (base.format === "qcow2") await requireRawBacking(qemuImg, base.path);
    const link = base.format === "raw" ? RAW_BASE : QCOW2_BASE;
    await linkInto(base.path, join(dir, link));
    if (base.format === "qcow2") await linkInto(join(dirname(base.path), RAW_BASE), join(dir, RAW_BASE));
    await run(qemuImg, ["create", "-q", "-f", "qcow2", "-b", link, "-F", base.format, join(dir, DISK)]);
  },

  async copy(fromDir, toDir) {
    for (const name of [RAW_BASE, QCOW2_BASE])
      if (existsSync(join(fromDir, name))) await linkInto(join(fromDir, name), join(toDir, name));
    await run("cp", ["--sparse=always", join(fromDir, DISK), join(toDir, DISK)]);
  },

  async flatten(dir, output) {
    const qemuImg = requireExecutable("qemu-img", "qemu-utils");
    try {
      await run(qemuImg, ["convert", "-q", "-O", "raw", join(dir, DISK), output]);
    } catch (error) {
      rmSync(output, { force: true });
      const stderr = (error as { stderr?: string }).stderr ?? String(error);
      if (/No space left/i.test(stderr)) {
        throw new PyroError(
          "HOST_DISK_FULL",
          `The host file system of ${dirname(output)} filled up while copying the disk.`,
        );
      }
      throw new PyroError("EXEC_FAILED", `could not flatten the disk: ${stderr.trim()}`, {
        hint: "Check the workspace's disk.",
      });
    }
  },
};
