import type { Writable } from "node:stream";
import { runTool } from "./run-tool.js";

export const ROOTFS_LABEL = "pyro-root";

/**
 * Packs the root tree into a sparse ext4 image. Run as root so mkfs keeps every file's owner;
 * `-m 0` reserves no blocks for root (the whole disk is the workspace's).
 */
export async function makeRootImage(
  mkfsExt4: string,
  rootDir: string,
  imagePath: string,
  sizeMiB: number,
  log: Writable,
): Promise<void> {
  await runTool(
    mkfsExt4,
    ["-q", "-F", "-L", ROOTFS_LABEL, "-m", "0", "-d", rootDir, imagePath, `${sizeMiB}M`],
    {
      log,
    },
  );
}
