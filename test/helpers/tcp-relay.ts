import { createServer, connect, type Server, type Socket } from "node:net";

/** What went through one relayed connection. */
export interface RelayedConnection {
  /** The first 16 KiB the client sent (an HTTP request's head, say). */
  request: string;
  /** Bytes passed from the target back to the client. */
  responseBytes: number;
}

export interface RelayRules {
  /** The next connection is cut (both sides destroyed) after this many response bytes. */
  cutNextAfter?: number | null;
  /** Response bytes per second per connection, reading the target no faster (backpressure). */
  bytesPerSecond?: number | null;
  /**
   * The next connection's whole response (head and body, until the target closes) is passed
   * through this before the client gets it: a registry's real answer, altered in transit.
   */
  rewriteNextResponse?: ((response: Buffer) => Buffer) | null;
}

export interface TcpRelay {
  host: string;
  connections: RelayedConnection[];
  /** The most connections that were open at one time. */
  maxConcurrent: number;
  rules: RelayRules;
  close(): Promise<void>;
}

/**
 * A real TCP relay on 127.0.0.1 in front of `target` ("127.0.0.1:PORT"), for faults a registry
 * never makes on its own: a connection cut mid-response, a slow link.
 */
export async function startRelay(target: string, rules: RelayRules = {}): Promise<TcpRelay> {
  const [targetHost, targetPort] = target.split(":");
  const connections: RelayedConnection[] = [];
  const sockets = new Set<Socket>();
  let open = 0;
  const relay: TcpRelay = { host: "", connections, maxConcurrent: 0, rules, close: async () => undefined };
  const server: Server = createServer((client) => {
    const record: RelayedConnection = { request: "", responseBytes: 0 };
    connections.push(record);
    open++;
    relay.maxConcurrent = Math.max(relay.maxConcurrent, open);
    client.once("close", () => open--);
    const cutAfter = relay.rules.cutNextAfter ?? null;
    relay.rules.cutNextAfter = null;
    const rewrite = relay.rules.rewriteNextResponse ?? null;
    relay.rules.rewriteNextResponse = null;
    const held: Buffer[] = [];
    const upstream = connect(Number(targetPort), targetHost);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on("data", (chunk: Buffer) => {
      if (record.request.length < 16_384)
        record.request += chunk.toString("latin1").slice(0, 16_384 - record.request.length);
      upstream.write(chunk);
    });
    client.on("end", () => upstream.end());
    const started = Date.now();
    upstream.on("data", (chunk: Buffer) => {
      if (rewrite) {
        held.push(chunk);
        return;
      }
      let piece = chunk;
      if (cutAfter !== null && record.responseBytes + piece.length >= cutAfter) {
        piece = piece.subarray(0, cutAfter - record.responseBytes);
        record.responseBytes += piece.length;
        client.write(piece, () => {
          client.destroy();
          upstream.destroy();
        });
        return;
      }
      record.responseBytes += piece.length;
      client.write(piece);
      const rate = relay.rules.bytesPerSecond ?? null;
      if (rate !== null) {
        const aheadMs = (record.responseBytes / rate) * 1000 - (Date.now() - started);
        if (aheadMs > 5) {
          upstream.pause();
          setTimeout(() => upstream.resume(), aheadMs);
        }
      }
    });
    upstream.on("end", () => {
      if (rewrite) {
        const response = rewrite(Buffer.concat(held));
        record.responseBytes += response.length;
        client.end(response);
      } else client.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("relay has no port");
  relay.host = `127.0.0.1:${address.port}`;
  relay.close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  return relay;
}
