import { createReadStream } from "node:fs";
import { open, stat } from "node:fs/promises";
import { basename, resolve } from "node:path";
import { pipeline } from "node:stream";
import { createGunzip } from "node:zlib";
import { PyroError } from "../errors/index.js";

export type SourceKind = "directory" | "file" | "archive";

export interface SourceInfo {
  kind: SourceKind;
  /** The source's base name: the entry name a single file gets in the workspace. */
  name: string;
}

const ARCHIVE_SUFFIXES = [".tar", ".tar.gz", ".tgz"];

/**
 * What a host source for seed or sync push is. Archives are recognised by name only: a `notes.gz`
 * is pushed as a file. A symlink given as the source itself is followed, as `cp` would.
 */
export async function inspectSource(path: string): Promise<SourceInfo> {
  const absolute = resolve(path);
  const stats = await stat(absolute).catch((error: unknown) => {
    throw new PyroError("FILE_NOT_FOUND", `The source ${absolute} does not exist or cannot be read.`, {
      hint: "Check the path given as the seed or sync source.",
      cause: error,
    });
  });
  const name = basename(absolute);
  if (stats.isDirectory()) return { kind: "directory", name };
  if (!stats.isFile()) {
    throw new PyroError(
      "INVALID_ARGUMENT",
      `The source ${absolute} is not a directory, a file or an archive.`,
    );
  }
  const lower = name.toLowerCase();
  return { kind: ARCHIVE_SUFFIXES.some((suffix) => lower.endsWith(suffix)) ? "archive" : "file", name };
}

/** Whether a file starts with the gzip magic bytes, whatever its name says. */
export async function isGzipFile(path: string): Promise<boolean> {
  const handle = await open(path, "r");
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

/** The uncompressed tar bytes of an archive file, gunzipped when its content is gzip. */
export async function* archiveStream(path: string): AsyncGenerator<Buffer, void, undefined> {
  const file = createReadStream(path);
  if (!(await isGzipFile(path))) {
    yield* file;
    return;
  }
  const gunzip = createGunzip();
  // pipeline destroys the gunzip stream with the file's error, so the iteration below throws it.
  pipeline(file, gunzip, () => undefined);
  yield* gunzip;
}
