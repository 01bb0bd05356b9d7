import { createWriteStream, rmSync } from "node:fs";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import { packDirectory } from "../../archive/index.js";
import type { WorkspaceImageFormat } from "../../machine/types.js";
import type { SandboxStore } from "../store.js";
import { workspaceFiles } from "./record.js";
import { stageSeed } from "./seed-tree.js";
import type { SourceTar } from "./source-tar.js";

/**
 * Makes a new workspace's own disk on the host, no byte through the guest: the seed unpacked into
 * a staging tree, the ext4 image made from it, the baseline archive (what diff compares against,
 * as the guest would have archived the same tree) packed from it, and the `baseline` snapshot
 * taken before the first boot. The caller removes the workspace on failure.
 */
export async function createWorkspaceDisk(
  store: SandboxStore,
  id: string,
  format: WorkspaceImageFormat,
  seed: SourceTar | null,
): Promise<void> {
  const files = workspaceFiles(store, id);
  const staging = join(files.dir, "seed-staging");
  rmSync(staging, { recursive: true, force: true });
  try {
    await stageSeed(seed?.stream ?? Readable.from([]), staging);
    const packed = await packDirectory(staging);
    await pipeline(packed.stream, createWriteStream(files.baseline, { mode: 0o600, flags: "wx" }));
    await format.create(files.disk, {
      virtualBytes: store.workspaceDiskBytes,
      seedTree: seed === null ? null : staging,
      cacheDir: store.home,
    });
    await format.snapshot(files.disk, "baseline");
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
