import { connect, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

/** Connects to a Unix socket, retrying while it does not exist yet or refuses, until the deadline. */
export async function connectUnixWithRetry(
  path: string,
  deadlineMs: number,
  stillWorthTrying: () => boolean = () => true,
): Promise<Socket> {
  let lastError: unknown = null;
  while (Date.now() < deadlineMs && stillWorthTrying()) {
    try {
      return await connectOnce(path);
    } catch (error) {
      lastError = error;
      await sleep(20);
    }
  }
  throw lastError ?? new Error(`gave up connecting to ${path}`);
}

export function connectOnce(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}
