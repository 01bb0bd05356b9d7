import {
  archiveStream,
  ARCHIVE_ENTRIES,
  CapBudget,
  ensureHostSpace,
  inspectSource,
  packDirectory,
  packFile,
  SEED_BYTES,
  validateArchive,
} from "../../archive/index.js";

/** A seed source as the tar stream that goes into the guest, with what it holds. */
export interface SourceTar {
  mode: "directory" | "file" | "archive";
  stream: AsyncIterable<Buffer>;
  entry_count: number;
  bytes: number;
}

/**
 * A host source (directory, file or archive) as a tar stream plus what it holds. Checked before
 * anything is written: unsafe archives are ARCHIVE_UNSAFE, sources over PYRO_MAX_SEED_BYTES or
 * PYRO_MAX_ARCHIVE_ENTRIES are LIMIT_EXCEEDED, and HOST_DISK_FULL when `hostDirectory` (where the
 * guest's disk grows) lacks the room.
 */
export async function tarOfSource(source: string, hostDirectory: string): Promise<SourceTar> {
  const tar = await checkedSource(source);
  await ensureHostSpace(hostDirectory, tar.bytes, `copying ${source} into the workspace`);
  return tar;
}

async function checkedSource(source: string): Promise<SourceTar> {
  const kind = await inspectSource(source);
  if (kind.kind === "archive") {
    const checked = await validateArchive(source);
    return { mode: "archive", stream: archiveStream(source), ...checked };
  }
  const packed = kind.kind === "directory" ? await packDirectory(source) : await packFile(source, kind.name);
  new CapBudget(SEED_BYTES).take(packed.bytes, `${source} holds ${packed.bytes} bytes`);
  new CapBudget(ARCHIVE_ENTRIES).take(packed.entry_count, `${source} holds ${packed.entry_count} entries`);
  return { mode: kind.kind, stream: packed.stream, entry_count: packed.entry_count, bytes: packed.bytes };
}
