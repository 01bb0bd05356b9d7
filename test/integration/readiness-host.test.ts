import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Pyro } from "../../src/surfaces/sdk/pyro.js";
import { useTempPyroHome } from "../helpers/pyro-home.js";

const HOST = { backend: "host", allowHostCompat: true } as const;

/** A port nobody listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0));
    });
  });
}

/** An HTTP server answering 200 on / and 500 elsewhere, logging each client's User-Agent. */
const httpServer = (port: number): string[] => [
  process.execPath,
  "-e",
  `require("http").createServer((q, s) => { console.log("agent=" + (q.headers["user-agent"] ?? "none")); s.statusCode = q.url === "/" ? 200 : 500; s.end("x"); }).listen(${port}, "127.0.0.1")`,
];

// tcp and http readiness on the loopback are probed through the agent's connection stream, via the
// supervisor (in host mode the agent's loopback is the host's).
describe("service readiness through the agent's connection stream (host-compat backend)", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  let pyro: Pyro;
  let id: string;
  beforeAll(async () => {
    home = useTempPyroHome();
    pyro = new Pyro({ home: home.home });
    id = (await pyro.createWorkspace(HOST)).workspace_id;
  });
  afterAll(async () => {
    await pyro.deleteWorkspace({ workspaceId: id }).catch(() => undefined);
    home.cleanup();
  });

  it("is ready once the server answers http 2xx, or accepts a tcp connection", async () => {
    const port = await freePort();
    const http = await pyro.startService({
      workspaceId: id,
      serviceName: "web",
      command: httpServer(port),
      readiness: { type: "http", url: `http://127.0.0.1:${port}/` },
      readyTimeoutSeconds: 20,
      readyIntervalMs: 100,
    });
    expect(http.ready).toBe(true);
    // The probe that passed was pyro's own request (no User-Agent), not curl's in the guest.
    const logs = (await pyro.logsService({ workspaceId: id, serviceName: "web" })).logs;
    expect(logs).toContain("agent=none");
    expect(logs).not.toContain("agent=curl");
    const tcp = await pyro.startService({
      workspaceId: id,
      serviceName: "web-tcp",
      command: "sleep 600",
      readiness: { type: "tcp", address: `localhost:${port}` },
      readyTimeoutSeconds: 5,
    });
    expect(tcp.ready).toBe(true);
    // The probes left the server running.
    expect((await pyro.listServices({ workspaceId: id })).services.every((s) => s.state === "running")).toBe(
      true,
    );
  }, 60_000);

  it("is not ready on an http error status, nor with nothing listening", async () => {
    const port = await freePort();
    await expect(
      pyro.startService({
        workspaceId: id,
        serviceName: "failing",
        command: httpServer(port),
        readiness: { type: "http", url: `http://127.0.0.1:${port}/broken` },
        readyTimeoutSeconds: 2,
        readyIntervalMs: 200,
      }),
    ).rejects.toMatchObject({ code: "SERVICE_NOT_READY" });
    await expect(
      pyro.startService({
        workspaceId: id,
        serviceName: "nothing",
        command: "sleep 600",
        readiness: { type: "tcp", address: `127.0.0.1:${await freePort()}` },
        readyTimeoutSeconds: 1,
        readyIntervalMs: 200,
      }),
    ).rejects.toMatchObject({ code: "SERVICE_NOT_READY" });
  }, 60_000);
});
