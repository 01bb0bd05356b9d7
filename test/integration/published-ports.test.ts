import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { connect, createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SandboxStore } from "../../src/sandbox/store.js";
import { supervisorControl } from "../../src/sandbox/supervisor-client.js";
import { Pyro } from "../../src/surfaces/sdk/pyro.js";
import { useTempPyroHome } from "../helpers/pyro-home.js";

let pyro: Pyro;
const publishPort = (vmId: string, hostPort: number, guestPort: number, owner?: string) =>
  supervisorControl(new SandboxStore(), vmId).publish({ host_port: hostPort, guest_port: guestPort, owner });
const unpublishPort = (vmId: string, hostPort: number) =>
  supervisorControl(new SandboxStore(), vmId).unpublish({ host_port: hostPort });
const listPublishedPorts = (vmId: string) => supervisorControl(new SandboxStore(), vmId).ports();
const hostVm = { environment: "debian:12", backend: "host", allowHostCompat: true } as const;

function listen(server: Server, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, allowHalfOpen: true }, () => resolve(socket));
    socket.once("error", reject);
  });
}

/** Everything the socket receives until its peer ends it (or it closes). */
function readAll(socket: Socket): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.once("end", () => resolve(Buffer.concat(chunks)));
    socket.once("close", () => resolve(Buffer.concat(chunks)));
  });
}

function closed(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) resolve();
    socket.once("close", () => resolve());
    socket.on("error", () => undefined);
  });
}

/** Local addresses (hex, as in /proc/net/tcp*) listening on port. */
function listeningAddresses(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  return ["/proc/net/tcp", "/proc/net/tcp6"].flatMap((file) =>
    readFileSync(file, "utf8")
      .split("\n")
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((fields) => fields[1]?.endsWith(`:${hexPort}`) && fields[3] === "0A")
      .map((fields) => (fields[1] as string).split(":")[0] as string),
  );
}

const sha256 = (data: Buffer): string => createHash("sha256").update(data).digest("hex");

describe("published ports (host-compat backend, real supervisor)", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  let vmId: string;
  const servers: Server[] = [];
  let echoPort: number;
  let httpPort: number;

  beforeAll(async () => {
    home = useTempPyroHome();
    pyro = new Pyro({ home: home.home });
    vmId = (await pyro.createVm(hostVm)).vm_id;
    await pyro.startVm({ vmId });
    // In host mode the agent's 127.0.0.1 is the host's: these stand in for guest servers.
    // Aborted relays reset these servers' sockets: that is expected, not an error.
    const echo = createServer({ allowHalfOpen: true }, (socket) =>
      socket.on("error", () => undefined).pipe(socket),
    );
    const http = createHttpServer((_request, response) => response.end("hello from the guest\n"));
    servers.push(echo, http);
    echoPort = await listen(echo);
    httpPort = await listen(http);
  });
  afterAll(async () => {
    await pyro.deleteVm({ vmId }).catch(() => undefined);
    await Promise.all(servers.map(closeServer));
    home.cleanup();
  });

  it("serves HTTP through a port listening on 127.0.0.1 only", async () => {
    const port = await publishPort(vmId, 0, httpPort);
    expect(port).toMatchObject({ host_address: "127.0.0.1", guest_port: httpPort, service: null });
    expect(port.host_port).toBeGreaterThan(0);
    expect(listeningAddresses(port.host_port)).toEqual(["0100007F"]);
    const response = await fetch(`http://127.0.0.1:${port.host_port}/`, { headers: { connection: "close" } });
    expect(await response.text()).toBe("hello from the guest\n");
    expect(await listPublishedPorts(vmId)).toContainEqual(port);
    await unpublishPort(vmId, port.host_port);
  });

  it("carries 5 MB both ways intact", async () => {
    const port = await publishPort(vmId, 0, echoPort);
    const data = randomBytes(5 * 1024 * 1024);
    const socket = await open(port.host_port);
    const received = readAll(socket);
    socket.end(data);
    const echoed = await received;
    expect(echoed.length).toBe(data.length);
    expect(sha256(echoed)).toBe(sha256(data));
    await unpublishPort(vmId, port.host_port);
  });

  it("lets a client that stops reading hold up only its own connection", async () => {
    const data = randomBytes(8 * 1024 * 1024);
    const firehose = createServer((socket) => socket.on("error", () => undefined).end(data));
    servers.push(firehose);
    const slowPort = await publishPort(vmId, 0, await listen(firehose));
    const slow = await open(slowPort.host_port);
    slow.pause(); // reads nothing for now: the guest side must wait, not the whole VM
    await new Promise((resolve) => setTimeout(resolve, 500));

    const echo = await publishPort(vmId, 0, echoPort);
    const other = await open(echo.host_port);
    const answer = readAll(other);
    const started = Date.now();
    other.end("still flowing");
    expect((await answer).toString()).toBe("still flowing");
    expect(Date.now() - started).toBeLessThan(2_000);

    const received = readAll(slow);
    slow.resume();
    expect(sha256(await received)).toBe(sha256(data));
    await unpublishPort(vmId, slowPort.host_port);
    await unpublishPort(vmId, echo.host_port);
  });

  it("half-closes each direction on its own", async () => {
    // The guest server says hello, ends its side, then still reads what the client sends.
    let lateData!: Promise<Buffer>;
    const greeter = createServer({ allowHalfOpen: true }, (socket) => {
      lateData = readAll(socket);
      socket.end("hi\n");
    });
    servers.push(greeter);
    const port = await publishPort(vmId, 0, await listen(greeter));
    const socket = await open(port.host_port);
    expect((await readAll(socket)).toString()).toBe("hi\n");
    socket.end("late data");
    await closed(socket);
    expect((await lateData).toString()).toBe("late data");

    // And the client may end first: the echo server still answers, then ends.
    const echo = await publishPort(vmId, 0, echoPort);
    const client = await open(echo.host_port);
    const answer = readAll(client);
    client.end("ping");
    expect((await answer).toString()).toBe("ping");
  });

  it("refuses a host port that is taken, naming it", async () => {
    const holder = createServer();
    servers.push(holder);
    const taken = await listen(holder);
    await expect(publishPort(vmId, taken, echoPort)).rejects.toMatchObject({
      code: "PORT_IN_USE",
      message: expect.stringContaining(String(taken)),
    });
    const port = await publishPort(vmId, 0, echoPort);
    await expect(publishPort(vmId, port.host_port, httpPort)).rejects.toMatchObject({ code: "PORT_IN_USE" });
    await expect(publishPort(vmId, 0, 0)).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
  });

  it("unpublish closes the listener and its connections", async () => {
    const port = await publishPort(vmId, 0, echoPort);
    const socket = await open(port.host_port);
    const answer = new Promise<Buffer>((resolve) => socket.once("data", resolve));
    socket.write("still here");
    expect((await answer).toString()).toBe("still here");
    const gone = closed(socket);
    expect(await unpublishPort(vmId, port.host_port)).toEqual(port);
    await gone;
    expect(await listPublishedPorts(vmId)).not.toContainEqual(port);
    const reuse = createServer();
    servers.push(reuse);
    expect(await listen(reuse, port.host_port)).toBe(port.host_port);
    await expect(unpublishPort(vmId, port.host_port)).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
  });

  it("closes a connection promptly when nothing listens on the guest port", async () => {
    const probe = createServer();
    const deadPort = await listen(probe);
    await closeServer(probe);
    const port = await publishPort(vmId, 0, deadPort);
    const started = Date.now();
    // The reset may even beat the connect callback.
    const socket = connect({ host: "127.0.0.1", port: port.host_port });
    const received = readAll(socket);
    await closed(socket);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect((await received).length).toBe(0);
  });

  it("releases a service's ports when the service ends on its own", async () => {
    await supervisorControl(new SandboxStore(), vmId).start({
      kind: "service",
      name: "brief",
      request: { shell: "sleep 0.5" },
    });
    const port = await publishPort(vmId, 0, echoPort, "brief");
    expect(port.service).toBe("brief");
    await supervisorControl(new SandboxStore(), vmId).wait({
      kind: "service",
      id: "brief",
      timeout_ms: 10_000,
    });
    expect(await listPublishedPorts(vmId)).not.toContainEqual(port);
    const reuse = createServer();
    servers.push(reuse);
    expect(await listen(reuse, port.host_port)).toBe(port.host_port);
  });

  it("frees every published port when the VM stops", async () => {
    const port = await publishPort(vmId, 0, echoPort);
    const socket = await open(port.host_port);
    const gone = closed(socket);
    await pyro.stopVm({ vmId });
    await gone;
    const reuse = createServer();
    servers.push(reuse);
    expect(await listen(reuse, port.host_port)).toBe(port.host_port);
  });
});
