import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { QmpClient } from "../../src/machine/qemu/qmp.js";

const GREETING = '{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}}, "capabilities": []}}\n';

/** A peer speaking QMP as `answer` says; it greets and accepts capability negotiation. */
function peer(answer: (request: { execute: string; id: number }, socket: Socket) => void): {
  path: string;
  server: Server;
} {
  const dir = mkdtempSync("/tmp/pyro-qmp-");
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "q.sock");
  const server = createServer((socket) => {
    socket.on("error", () => undefined); // the client hangs up on a peer it distrusts
    socket.write(GREETING);
    let buffered = "";
    socket.on("data", (chunk) => {
      buffered += chunk.toString();
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const request = JSON.parse(buffered.slice(0, newline)) as { execute: string; id: number };
        buffered = buffered.slice(newline + 1);
        if (request.execute === "qmp_capabilities") socket.write(`{"return": {}, "id": ${request.id}}\n`);
        else answer(request, socket);
      }
    });
  });
  server.listen(path);
  cleanups.push(() => server.close());
  return { path, server };
}

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

const connect = (path: string): Promise<QmpClient> => QmpClient.connect(path, Date.now() + 5_000, () => true);

describe("the QMP client", () => {
  it("negotiates, matches replies to commands by id, and passes events on", async () => {
    const { path } = peer((request, socket) => {
      if (request.execute === "stop") {
        socket.write('{"event": "STOP", "timestamp": {"seconds": 1, "microseconds": 2}}\n');
        socket.write(`{"return": {}, "id": ${request.id}}\n`);
      } else {
        socket.write(
          `{"error": {"class": "GenericError", "desc": "no ${request.execute}"}, "id": ${request.id}}\n`,
        );
      }
    });
    const client = await connect(path);
    const stopped = client.waitForEvent((event) => event.event === "STOP", 5_000);
    await expect(client.execute("stop", {}, 5_000)).resolves.toEqual({});
    await expect(stopped).resolves.toMatchObject({ event: "STOP" });
    await expect(client.execute("cont", {}, 5_000)).rejects.toThrow(/GenericError: no cont/);
    client.close();
  });

  it("gives up on a command QEMU does not answer in time", async () => {
    const { path } = peer(() => undefined);
    const client = await connect(path);
    await expect(client.execute("query-status", {}, 100)).rejects.toThrow(/no answer within 100 ms/);
    client.close();
  });

  it("drops a peer that sends an endless line or something that is not JSON", async () => {
    const endless = peer((_request, socket) => socket.write("x".repeat(2 * 1024 * 1024)));
    const first = await connect(endless.path);
    await expect(first.execute("query-status", {}, 5_000)).rejects.toThrow(/longer than/);
    await expect(first.execute("query-status", {}, 5_000)).rejects.toThrow();
    const garbage = peer((_request, socket) => socket.write("not json\n"));
    const second = await connect(garbage.path);
    await expect(second.execute("query-status", {}, 5_000)).rejects.toThrow(/not JSON/);
  });

  it("refuses a peer whose greeting is not QMP's", async () => {
    const dir = mkdtempSync("/tmp/pyro-qmp-");
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, "q.sock");
    const server = createServer((socket) => socket.write('{"hello": 1}\n')).listen(path);
    cleanups.push(() => server.close());
    await expect(connect(path)).rejects.toThrow(/QMP handshake failed/);
  });
});
