import { archiveStream, inspectSource, packDirectory, packFile, validateArchive } from "../archive/index.js";

/** A host source (directory, file or archive) as a tar stream plus what it holds. Checked before anything is written. */
export async function tarOfSource(source: string): Promise<{
  mode: "directory" | "file" | "archive";
  stream: AsyncIterable<Buffer>;
  entry_count: number;
  bytes: number;
}> {
  const kind = await inspectSource(source);
  if (kind.kind === "directory") {
    const packed = await packDirectory(source);
    return { mode: "directory", stream: packed.stream, entry_count: packed.entry_count, bytes: packed.bytes };
  }
  if (kind.kind === "archive") {
    const checked = await validateArchive(source);
    return {
      mode: "archive",
      stream: archiveStream(source),
      entry_count: checked.entry_count,
      bytes: checked.bytes,
    };
  }
  const packed = await packFile(source, kind.name);
  return { mode: "file", stream: packed.stream, entry_count: 1, bytes: packed.bytes };
}
