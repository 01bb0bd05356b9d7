import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";

/**
 * A fingerprint of a host directory tree (names as bytes, types, modes, sizes, link targets and
 * content digests), to show an attack left it unchanged. `skip` names top-level entries to leave out.
 */
export function treeFingerprint(root: string, skip: readonly string[] = []): string {
  const hash = createHash("sha256");
  const walk = (directory: Buffer, top: boolean): void => {
    const names = readdirSync(directory, { encoding: "buffer" }).sort(Buffer.compare);
    for (const name of names) {
      if (top && skip.includes(name.toString())) continue;
      const path = Buffer.concat([directory, Buffer.from("/"), name]);
      const stats = lstatSync(path);
      hash.update(name).update(`\0${stats.mode}\0${stats.size}\0`);
      if (stats.isSymbolicLink()) hash.update(readlinkSync(path, { encoding: "buffer" }));
      else if (stats.isFile()) hash.update(readFileSync(path));
      else if (stats.isDirectory()) walk(path, false);
      hash.update("\0");
    }
  };
  walk(Buffer.from(root), true);
  return hash.digest("hex");
}

/** Live children of this test process running one of `commands` (debugfs, tar… that should have ended). */
export function childProcesses(
  commands: readonly string[] = ["debugfs", "tar", "qemu-img", "gzip"],
): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(join("/proc", entry, "stat"), "utf8");
      const command = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[1]) === process.pid && fields[0] !== "Z" && commands.includes(command)) {
        pids.push(Number(entry));
      }
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}
