import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { HOST_ADDRESS, type PublishedPort, type RefusalCode } from "./control-protocol.js";
import { PortRelay } from "./port-relay.js";
import type { StreamRouter } from "./router.js";

export { HOST_ADDRESS, type PublishedPort } from "./control-protocol.js";

/** A refused port request; `code` is what the control reply carries. */
export class PortError extends Error {
  constructor(
    readonly code: Extract<RefusalCode, "PORT_IN_USE" | "INVALID_ARGUMENT" | "VM_NOT_RUNNING">,
    message: string,
  ) {
    super(message);
  }
}

interface Listener {
  server: Server;
  port: PublishedPort;
  relays: Set<PortRelay>;
}

/** A VM's published ports: host listeners whose connections are relayed to guest ports. */
export class PublishedPorts {
  private readonly listeners = new Map<number, Listener>();
  private closed = false;

  constructor(private readonly router: () => StreamRouter | null) {}

  /** Listens on 127.0.0.1:hostPort (0 = a free port the system picks) for guestPort (ranges checked by the request schema). */
  async publish(hostPort: number, guestPort: number, owner?: string): Promise<PublishedPort> {
    if (this.closed || this.router() === null) throw new PortError("VM_NOT_RUNNING", "the VM is not running");
    if (this.listeners.has(hostPort))
      throw new PortError("PORT_IN_USE", `host port ${hostPort} is already published`);
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: HOST_ADDRESS, port: hostPort }, () => {
        server.off("error", reject);
        resolve();
      });
    }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE")
        throw new PortError("PORT_IN_USE", `host port ${hostPort} is already in use`);
      throw new PortError(
        "INVALID_ARGUMENT",
        `cannot listen on ${HOST_ADDRESS}:${hostPort}: ${error.message}`,
      );
    });
    if (this.closed) {
      server.close();
      throw new PortError("VM_NOT_RUNNING", "the VM stopped");
    }
    server.on("error", () => undefined); // a failed accept must not take the supervisor down
    const port: PublishedPort = {
      host_address: HOST_ADDRESS,
      host_port: (server.address() as AddressInfo).port,
      guest_port: guestPort,
      service: owner ?? null,
    };
    const listener: Listener = { server, port, relays: new Set() };
    server.on("connection", (socket) => this.accept(listener, socket));
    this.listeners.set(port.host_port, listener);
    return port;
  }

  /** Stops listening on hostPort and resets its live connections. */
  unpublish(hostPort: number): PublishedPort {
    const listener = this.listeners.get(hostPort);
    if (listener === undefined)
      throw new PortError("INVALID_ARGUMENT", `host port ${hostPort} is not published`);
    this.close(listener);
    return listener.port;
  }

  /** A service ended: the ports published for it go with it. */
  releaseOwner(owner: string): void {
    for (const listener of [...this.listeners.values()])
      if (listener.port.service === owner) this.close(listener);
  }

  list(): PublishedPort[] {
    return [...this.listeners.values()].map((l) => l.port).sort((a, b) => a.host_port - b.host_port);
  }

  /** The VM stopped: every listener and connection goes, so the host ports are free again. */
  closeAll(): void {
    this.closed = true;
    for (const listener of [...this.listeners.values()]) this.close(listener);
  }

  private close(listener: Listener): void {
    this.listeners.delete(listener.port.host_port);
    listener.server.close();
    for (const relay of listener.relays) relay.abort();
    listener.relays.clear();
  }

  private accept(listener: Listener, socket: Socket): void {
    const router = this.router();
    if (router === null || this.closed) {
      socket.on("error", () => undefined);
      socket.destroy();
      return;
    }
    const relay = new PortRelay(router, socket, listener.port.guest_port);
    listener.relays.add(relay);
    socket.once("close", () => listener.relays.delete(relay));
  }
}
