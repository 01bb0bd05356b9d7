import { constants } from "node:fs";
import { open } from "node:fs/promises";
import { exportedFileMode } from "./export-modes.js";

// O_EXCL refuses anything already there, a symlink included; O_NOFOLLOW says so explicitly.
const CREATE_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** Creates a file that must not exist yet, streams `body` into it and gives it a safe mode; returns the bytes written. */
export async function writeNewFile(path: string, body: AsyncIterable<Buffer>, mode: number): Promise<number> {
  const handle = await open(path, CREATE_NEW, 0o600);
  let written = 0;
  try {
    for await (const chunk of body) {
      for (let offset = 0; offset < chunk.length;) {
        const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset);
        offset += bytesWritten;
      }
      written += chunk.length;
    }
    await handle.chmod(exportedFileMode(mode));
  } finally {
    await handle.close();
  }
  return written;
}
