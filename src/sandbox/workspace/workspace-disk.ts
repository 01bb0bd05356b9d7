import { createWriteStream, mkdirSync, rmSync, statfsSync } from "node:fs";
import { Header } from "tar";
import { PyroError } from "../../errors/index.js";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import { packDirectory } from "../../archive/index.js";
import type { WorkspaceImageFormat } from "../../machine/types.js";
import type { SandboxStore } from "../store.js";
import { workspaceFiles } from "./record.js";
import { loadVm } from "../vm/liveness.js";
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
  const owner = workspaceOwner(store, id);
  const staging = join(stagingRoot(files.dir, seed), `pyro-seed-${id}`);
  rmSync(staging, { recursive: true, force: true });
  try {
    if (seed === null) mkdirSync(staging, { mode: 0o700 });
    else await stageSeed(seed.stream, staging);
    // The root entry first, as the guest's archive of /workspace has it (an archive of an empty
    // tree is then still one that the indexer reads).
    const packed = await packDirectory(staging);
    const root = new Header({
      path: "./",
      mode: 0o755,
      uid: owner?.uid ?? 0,
      gid: owner?.gid ?? 0,
      size: 0,
      mtime: new Date(),
      type: "Directory",
    });
    root.encode();
    if (root.block === undefined) throw new PyroError("INTERNAL", "tar header not encoded");
    await pipeline(
      Readable.from(prefixed(root.block, packed.stream)),
      createWriteStream(files.baseline, { mode: 0o600, flags: "wx" }),
    );
    await format.create(files.disk, {
      virtualBytes: store.workspaceDiskBytes,
      seedTree: seed === null ? null : staging,
      cacheDir: store.home,
      owner,
    });
    await format.snapshot(files.disk, "baseline");
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * Who owns /workspace and the seed: the image's user, so the commands (which run as that user)
 * can change them; null (root) without one. The image format sets it while making the disk;
 * files pyro writes later take their folder's owner in the guest (the agent's rule,
 * docs/protocol.md).
 */
function workspaceOwner(store: SandboxStore, id: string): { uid: number; gid: number } | null {
  const user = loadVm(store, id).image?.user ?? null;
  return user === null || (user.uid === 0 && user.gid === 0) ? null : { uid: user.uid, gid: user.gid };
}

/** Memory the staged copy of a small seed may take: each file costs at least a page in tmpfs. */
const MEMORY_STAGING_BYTES = 512 * 1024 ** 2;
const TMPFS = "/dev/shm";

/**
 * Where a seed is unpacked before the image is made from it: in memory (tmpfs) when it is small
 * and there is room (10k small files stage in about a third of the time there), else beside the
 * workspace on the host's disk.
 */
function stagingRoot(workspaceDir: string, seed: SourceTar | null): string {
  if (seed === null) return workspaceDir;
  const bytes = seed.bytes + seed.entry_count * 4096;
  try {
    const space = statfsSync(TMPFS);
    if (bytes <= MEMORY_STAGING_BYTES && bytes * 4 <= space.bavail * space.bsize) return TMPFS;
  } catch {
    // no tmpfs here
  }
  return workspaceDir;
}

async function* prefixed(first: Buffer, rest: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  yield first;
  yield* rest;
}
