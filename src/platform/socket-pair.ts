import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { connect, createServer, type Socket } from "node:net";
import { join } from "node:path";

/**
 * Two connected Unix stream sockets (Node has no socketpair()). A listener in a private
 * folder accepts one connection and is removed at once, so nothing else can join.
 */
export async function socketPair(privateDir: string): Promise<[Socket, Socket]> {
  const path = join(privateDir, `pair-${randomBytes(4).toString("hex")}.sock`);
  const server = createServer({ pauseOnConnect: true });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(path, resolve);
    });
    const accepted = new Promise<Socket>((resolve) => server.once("connection", resolve));
    const client = connect({ path });
    client.pause();
    await new Promise<void>((resolve, reject) => {
      client.once("connect", resolve);
      client.once("error", reject);
    });
    return [client, await accepted];
  } finally {
    server.close();
    rmSync(path, { force: true });
  }
}
