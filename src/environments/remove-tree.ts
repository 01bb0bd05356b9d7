import { readFile, rm } from "node:fs/promises";
import { resolve } from "node:path";
import { PyroError } from "../errors/index.js";

/**
 * rm -rf that refuses to descend into mount points: a recursive delete through a bind-mounted
 * /dev or /proc left by a killed bootstrap would damage the host.
 */
export async function removeTree(path: string): Promise<void> {
  const root = resolve(path);
  const mounted = (await mountPoints()).filter((mount) => mount === root || mount.startsWith(`${root}/`));
  if (mounted.length > 0) {
    throw new PyroError(
      "ENVIRONMENT_CORRUPT",
      `Refusing to delete ${root}: ${mounted.join(", ")} is mounted inside it.`,
      {
        hint: `Unmount it first (umount -R ${mounted[0]}), then retry.`,
        details: { path: root, mounts: mounted },
      },
    );
  }
  await rm(root, { recursive: true, force: true });
}

async function mountPoints(): Promise<string[]> {
  const text = await readFile("/proc/self/mountinfo", "utf8").catch(() => "");
  return text
    .split("\n")
    .map((line) => line.split(" ")[4])
    .filter((field): field is string => field !== undefined)
    .map((field) =>
      field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))),
    );
}
