import { createHash, type Hash } from "node:crypto";
import {
  chmodSync,
  closeSync,
  createReadStream,
  fchmodSync,
  fchownSync,
  futimesSync,
  lchownSync,
  linkSync,
  lutimesSync,
  mkdirSync,
  openSync,
  symlinkSync,
  writeSync,
} from "node:fs";
import { createGunzip } from "node:zlib";
import { PyroError } from "../../errors/index.js";
import { parseEntryName } from "../../archive/entry-names.js";
import type { CapBudget } from "../../archive/caps.js";
import type { HostSpaceGuard } from "../../archive/host-space.js";
import { readTarEntries, type TarEntry } from "../../archive/tar-entries.js";
import { CREATE_NEW, unsafeMember, type RootTree } from "./root-tree.js";

const WHITEOUT_PREFIX = ".wh.";
const OPAQUE_MARKER = ".wh..wh..opq";
const MAX_NAME_BYTES = 4096;
const MAX_TOTAL_NAME_BYTES = 256 * 1024 * 1024;

export type LayerCompression = "none" | "gzip";

/** Totals over every layer applied, and the bounds they are held to. */
export interface UnpackTally {
  entries: number;
  bytes: number;
  /** Devices, FIFOs and entry types pyro does not create. */
  skipped: number;
  readonly maxEntries: number;
  /** Bytes of files written, against the image byte cap. */
  readonly budget: CapBudget;
  readonly space: HostSpaceGuard;
}

/**
 * Applies one layer (a tar, maybe gzip-compressed) on top of the tree: whiteouts delete what lower
 * layers made, opaque markers empty a directory of lower content, everything else is created with
 * its owner and mode. Returns the layer's diff ID (sha256 of the uncompressed tar).
 */
export async function applyLayer(
  tree: RootTree,
  file: string,
  compression: LayerCompression,
  layer: number,
  tally: UnpackTally,
): Promise<string> {
  const diffHash = createHash("sha256");
  const raw = createReadStream(file, { highWaterMark: 1024 * 1024 });
  const plain = compression === "gzip" ? raw.pipe(createGunzip()) : raw;
  raw.on("error", (error) => plain.destroy(error));
  const written = new Set<string>();
  try {
    const entries = readTarEntries(hashed(plain, diffHash), {
      maxEntries: tally.maxEntries + 1,
      maxNameBytes: MAX_NAME_BYTES,
      maxTotalNameBytes: MAX_TOTAL_NAME_BYTES,
    });
    for await (const entry of entries) {
      tally.entries += 1;
      if (tally.entries > tally.maxEntries) {
        throw new PyroError(
          "IMAGE_UNSAFE",
          `The image has more than ${tally.maxEntries} members in its layers.`,
          {
            hint: "Raise PYRO_MAX_IMAGE_ENTRIES if the image is genuine.",
            details: { layer, limit: tally.maxEntries },
          },
        );
      }
      await applyEntry(tree, entry, layer, tally, written);
    }
  } catch (error) {
    throw layerError(error, layer);
  } finally {
    plain.destroy();
    raw.destroy();
  }
  return `sha256:${diffHash.digest("hex")}`;
}

async function* hashed(source: AsyncIterable<unknown>, hash: Hash): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    if (!Buffer.isBuffer(chunk)) throw new TypeError("a layer stream gave text, not bytes");
    hash.update(chunk);
    yield chunk;
  }
}

async function applyEntry(
  tree: RootTree,
  entry: TarEntry,
  layer: number,
  tally: UnpackTally,
  written: Set<string>,
): Promise<void> {
  const parsed = parseEntryName(entry.name, MAX_NAME_BYTES);
  if (!parsed.ok) throw unsafeMember(layer, entry.name, `is refused: ${parsed.reason}`);
  const path = parsed.path;
  if (path === "") return; // the root itself keeps pyro's owner and mode
  const slash = path.lastIndexOf("/");
  const parent = slash === -1 ? "" : path.slice(0, slash);
  const base = path.slice(slash + 1);

  if (base === OPAQUE_MARKER) {
    if (tree.walkParents(path, layer, entry.name, false)) {
      const stats = tree.lstat(parent);
      if (stats?.isDirectory()) clearLowerContent(tree, parent, written);
    }
    return;
  }
  if (base.startsWith(WHITEOUT_PREFIX)) {
    const hidden = base.slice(WHITEOUT_PREFIX.length);
    if (hidden === "" || hidden === "." || hidden === ".." || hidden.includes("/")) {
      throw unsafeMember(layer, entry.name, "is a whiteout of no valid name");
    }
    const target = parent === "" ? hidden : `${parent}/${hidden}`;
    // Whiteouts hide lower layers only; the same layer's own files stay.
    if (!written.has(target) && tree.walkParents(target, layer, entry.name, false)) tree.remove(target);
    return;
  }

  if (entry.kind === "device" || entry.kind === "fifo" || entry.kind === "other") {
    tally.skipped += 1;
    return;
  }
  tree.walkParents(path, layer, entry.name, true, (dir) => written.add(dir));
  written.add(path);
  const absolute = tree.absolute(path);
  const existing = tree.lstat(path);

  switch (entry.kind) {
    case "directory":
      if (existing !== undefined && !existing.isDirectory()) tree.remove(path);
      if (existing === undefined || !existing.isDirectory()) mkdirSync(absolute);
      lchownSync(absolute, entry.uid, entry.gid);
      chmodSync(absolute, entry.mode & 0o7777);
      tree.noteDirectory(path);
      return;
    case "symlink":
      if (existing !== undefined) tree.remove(path);
      symlinkSync(entry.linkTarget ?? "", absolute);
      lchownSync(absolute, entry.uid, entry.gid);
      if (entry.mtime) lutimesSync(absolute, entry.mtime, entry.mtime);
      return;
    case "hardlink":
      linkEntry(tree, entry, path, layer);
      return;
    case "file":
      if (existing !== undefined) tree.remove(path);
      tally.budget.take(entry.size, `layer ${layer} brings it past the limit`);
      await tally.space.willWrite(entry.size);
      tally.bytes += await writeFile(absolute, entry);
      return;
  }
}

/** A hard link to a file already in the tree, reached without following any symlink. */
function linkEntry(tree: RootTree, entry: TarEntry, path: string, layer: number): void {
  const parsed = parseEntryName(entry.linkTarget ?? "", MAX_NAME_BYTES);
  if (!parsed.ok || parsed.path === "") {
    throw unsafeMember(
      layer,
      entry.name,
      `is a hard link to ${JSON.stringify(entry.linkTarget)}, outside the image's root`,
    );
  }
  const target = parsed.path;
  if (!tree.walkParents(target, layer, entry.name, false)) {
    throw unsafeMember(
      layer,
      entry.name,
      `is a hard link to ${JSON.stringify(target)}, which does not exist`,
    );
  }
  const stats = tree.lstat(target);
  if (stats === undefined || stats.isDirectory()) {
    throw unsafeMember(layer, entry.name, `is a hard link to ${JSON.stringify(target)}, which is not a file`);
  }
  if (target === path) return;
  if (tree.lstat(path) !== undefined) tree.remove(path);
  linkSync(tree.absolute(target), tree.absolute(path));
}

/** Creates a new file with the member's bytes, owner, mode (setuid bits included) and time. */
async function writeFile(absolute: string, entry: TarEntry): Promise<number> {
  const fd = openSync(absolute, CREATE_NEW, 0o600);
  let written = 0;
  try {
    for await (const chunk of entry.body) {
      for (let offset = 0; offset < chunk.length;)
        offset += writeSync(fd, chunk, offset, chunk.length - offset);
      written += chunk.length;
    }
    // chown clears setuid/setgid, so the mode comes after it.
    fchownSync(fd, entry.uid, entry.gid);
    fchmodSync(fd, entry.mode & 0o7777);
    if (entry.mtime) futimesSync(fd, entry.mtime, entry.mtime);
  } finally {
    closeSync(fd);
  }
  return written;
}

/** Removes from `dir` everything that lower layers put there, keeping what this layer wrote. */
function clearLowerContent(tree: RootTree, dir: string, written: Set<string>): void {
  for (const name of tree.children(dir)) {
    const child = dir === "" ? name : `${dir}/${name}`;
    if (!written.has(child)) tree.remove(child);
    else if (tree.lstat(child)?.isDirectory()) clearLowerContent(tree, child, written);
  }
}

/** Archive and decompression failures of a layer, as IMAGE_UNSAFE naming the layer. */
function layerError(error: unknown, layer: number): unknown {
  if (error instanceof PyroError) {
    if (error.code !== "ARCHIVE_UNSAFE") return error;
    return new PyroError("IMAGE_UNSAFE", `Layer ${layer} of the image is unsafe: ${error.message}`, {
      cause: error,
      details: { layer },
    });
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && code.startsWith("Z_")) {
    return new PyroError("IMAGE_UNSAFE", `Layer ${layer} of the image is not valid gzip data.`, {
      cause: error,
      details: { layer },
    });
  }
  return error;
}
