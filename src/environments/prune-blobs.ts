import { readdir, rm, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { isLiveStaging, type RemovedItem } from "./leftovers.js";
import { BLOBS_FOLDER } from "./paths.js";

/**
 * Frees the blob store of what no installed environment uses: blobs not hard-linked into any entry
 * (a pulled kernel and initramfs share their blob's inode; layers of imported images and the root
 * image layer of a pull or push do not) and interrupted downloads. Skipped while any pull, import
 * or push is staging, since those read blobs before linking them.
 */
export async function pruneBlobs(
  cacheDir: string,
  environmentFolders: string[],
): Promise<{ removed: RemovedItem[]; skipped: RemovedItem[] }> {
  const root = join(cacheDir, BLOBS_FOLDER);
  const removed: RemovedItem[] = [];
  if (!(await stat(root).catch(() => undefined))) return { removed, skipped: [] };
  for (const folder of environmentFolders) {
    const names = await readdir(join(cacheDir, folder)).catch(() => [] as string[]);
    if (names.some(isLiveStaging)) {
      return { removed, skipped: [{ path: root, reason: `${folder} is being pulled, imported or pushed` }] };
    }
  }
  const partials = join(root, ".partial");
  for (const name of await readdir(partials).catch(() => [] as string[])) {
    // A download in progress holds "<hex>.lock"; its partial stays.
    if (name.endsWith(".lock") || (await stat(join(partials, `${name}.lock`)).catch(() => undefined)))
      continue;
    await rm(join(partials, name), { force: true });
    removed.push({ path: join(partials, name), reason: "interrupted download" });
  }
  const blobs = join(root, "sha256");
  for (const name of await readdir(blobs).catch(() => [] as string[])) {
    const path = join(blobs, name);
    const stats = await stat(path).catch(() => undefined);
    if (!stats || stats.nlink > 1) continue;
    await unlink(path).catch(() => undefined);
    removed.push({ path, reason: `blob no installed environment uses (${stats.size} bytes)` });
  }
  return { removed, skipped: [] };
}
