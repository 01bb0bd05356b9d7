import { mkdtempSync, rmSync } from "node:fs";
import { createServer, connect, type AddressInfo, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FrameChannel } from "../../src/agent-protocol/channel.js";
import { MAX_BODY, MessageType } from "../../src/agent-protocol/constants.js";
import type { Frame } from "../../src/agent-protocol/frame.js";
import { decode, encode } from "../../src/agent-protocol/messages.js";
import { PortRelay } from "../../src/runtime/port-relay.js";
import { StreamRouter } from "../../src/runtime/router.js";

const ignore = { onProtocolError: () => undefined, onClose: () => undefined };

function accept(server: Server): Promise<Socket> {
  return new Promise((resolve) => server.once("connection", resolve));
}

/**
 * A published port whose guest side ignores the forwarding window and sends one byte per frame
 * while the host client reads nothing: the supervisor's relay must bound what it holds by bytes
 * whatever the number of frames, then cut the connection.
 */
describe("a guest that floods a published port with one-byte frames", () => {
  let dir: string;
  let ports: Server;
  let channelServer: Server;
  beforeAll(async () => {
    dir = mkdtempSync("/tmp/pyro-relay-");
    ports = createServer();
    await new Promise<void>((resolve) => ports.listen(0, "127.0.0.1", resolve));
    channelServer = createServer();
    await new Promise<void>((resolve) => channelServer.listen(join(dir, "guest"), resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => ports.close(resolve));
    await new Promise((resolve) => channelServer.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps memory bounded and resets the connection", async () => {
    // The supervisor's guest channel, with the guest's end read back here (CONNECT, ACKs).
    const guestEndAccepted = accept(channelServer);
    const hostEnd = connect(join(dir, "guest"));
    const guestEnd = await guestEndAccepted;
    const toGuest: Frame[] = [];
    new FrameChannel(guestEnd, { onFrame: (frame) => toGuest.push(frame), ...ignore });
    const router = new StreamRouter(new FrameChannel(hostEnd, { onFrame: () => undefined, ...ignore }));

    // A host client of the published port that never reads.
    const accepted = accept(ports);
    const client = connect((ports.address() as AddressInfo).port, "127.0.0.1");
    client.pause();
    const socket = await accepted;
    new PortRelay(router, socket, 8080);
    while (!toGuest.some((frame) => frame.type === MessageType.CONNECT))
      await new Promise((resolve) => setTimeout(resolve, 10));
    const connectFrame = toGuest.find((frame) => frame.type === MessageType.CONNECT) as Frame;
    expect(decode.connect(connectFrame.body)).toBe(8080);
    const stream = connectFrame.stream;
    router.fromGuest(encode.connected(stream));

    // Fill the kernel's buffers with a few large frames, so what follows waits in the relay.
    const large = Buffer.alloc(MAX_BODY, 0x41);
    for (let i = 0; i < 1000 && socket.writableLength === 0; i++)
      router.fromGuest(encode.stdout(stream, large));
    expect(socket.writableLength).toBeGreaterThan(0);

    const before = process.memoryUsage().heapUsed;
    const one = Buffer.from("x");
    let sent = 0;
    for (; sent < 2_000_000 && !socket.destroyed; sent++) router.fromGuest(encode.stdout(stream, one));
    const growth = process.memoryUsage().heapUsed - before;
    expect(socket.destroyed).toBe(true); // cut off once past the window
    expect(sent).toBeLessThan(2_000_000);
    // One pending write per frame (~200 bytes each) would be about 100 MiB here.
    expect(growth).toBeLessThan(32 * 1024 * 1024);
    client.destroy();
    hostEnd.destroy();
    guestEnd.destroy();
  });
});
