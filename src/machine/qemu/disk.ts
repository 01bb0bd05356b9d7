import { execFile } from "node:child_process";
import { linkSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { PyroError } from "../../errors/index.js";
import { requireExecutable } from "../../platform/find-executable.js";
import type { MachineDisk } from "../types.js";

const run = promisify(execFile);

/** The root disk as a qcow2 overlay: it takes every write, the base image is only ever read. */
export const qcow2Overlay: MachineDisk = {
  kind: "qcow2-overlay",

  imageFile: (dir) => join(dir, "disk.qcow2"),

  async create(dir, base) {
    if (base === null) throw new PyroError("INTERNAL", "a qcow2 overlay needs a base image");
    const qemuImg = requireExecutable("qemu-img", "qemu-utils");
    // The base is a hard link in the VM's own folder, so rebuilding or pruning the cached
    // environment (or a saved disk) never changes or removes the disk under an existing VM (a
    // copy where the two are on different filesystems). A qcow2 base keeps its own backing file.
    const link = join(dir, base.format === "raw" ? "base.ext4" : "base.qcow2");
    rmSync(link, { force: true });
    try {
      linkSync(base.path, link);
    } catch {
      await run("cp", ["--sparse=always", "--reflink=auto", base.path, link]);
    }
    await run(qemuImg, [
      "create",
      "-q",
      "-f",
      "qcow2",
      "-b",
      link,
      "-F",
      base.format,
      join(dir, "disk.qcow2"),
    ]);
  },

  async flatten(dir, output) {
    const qemuImg = requireExecutable("qemu-img", "qemu-utils");
    try {
      await run(qemuImg, ["convert", "-q", "-O", "raw", join(dir, "disk.qcow2"), output]);
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
