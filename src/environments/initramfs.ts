import { readFile, writeFile } from "node:fs/promises";
import { basename } from "node:path";
import { writeCpio, type CpioEntry } from "./cpio.js";

export const INITRAMFS_MODULE_DIR = "pyro/modules";
export const INITRAMFS_MODULE_ORDER = "pyro/modules.order";

/**
 * Writes the environment's initramfs: an uncompressed newc archive holding the kernel modules
 * (/pyro/modules/<name>.ko), their load order (/pyro/modules.order, one file name a line) and the
 * mount points the agent uses. The agent itself is not here: the VM backend appends a second cpio
 * archive with /init at boot, so one environment works with any agent build.
 */
export async function writeInitramfs(modulePaths: readonly string[], outPath: string): Promise<void> {
  const entries: CpioEntry[] = ["dev", "proc", "sys", "newroot", "pyro", INITRAMFS_MODULE_DIR].map(
    (path) => ({
      type: "directory",
      path,
    }),
  );
  // The kernel opens /dev/console for init's stdio before init can mount devtmpfs.
  entries.push({ type: "char-device", path: "dev/console", major: 5, minor: 1, mode: 0o600 });
  for (const modulePath of modulePaths) {
    entries.push({
      type: "file",
      path: `${INITRAMFS_MODULE_DIR}/${basename(modulePath)}`,
      data: await readFile(modulePath),
    });
  }
  const order = modulePaths.map((path) => `${basename(path)}\n`).join("");
  entries.push({ type: "file", path: INITRAMFS_MODULE_ORDER, data: Buffer.from(order) });
  await writeFile(outPath, writeCpio(entries));
}
