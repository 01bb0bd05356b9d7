import { constants } from "node:fs";
import { open } from "node:fs/promises";

// O_EXCL refuses anything already there, a symlink included; O_NOFOLLOW says so explicitly.
const CREATE_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** Creates a file that must not exist yet and streams `body` into it; returns the bytes written. */
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
    // Permission bits only: never setuid, setgid or sticky from a guest.
    await handle.chmod(mode & 0o777);
  } finally {
    await handle.close();
  }
  return written;
}
