import { controlCall, type RefusalCodes } from "./control-client.js";
import type { SupervisorTarget } from "./vm-connection.js";
import type { PublishedPort } from "./published-ports.js";

const PORT_CODES: RefusalCodes = {
  PORT_IN_USE: "PORT_IN_USE",
  NOT_FOUND: "INVALID_ARGUMENT",
  NOT_READY: "VM_NOT_RUNNING",
  INVALID_ARGUMENT: "INVALID_ARGUMENT",
};

/** Publishes host 127.0.0.1:hostPort (0 = a free port) to guestPort of a running VM. */
export async function publishPort(
  vm: SupervisorTarget,
  hostPort: number,
  guestPort: number,
  owner?: string,
): Promise<PublishedPort> {
  const request = { op: "publish", host_port: hostPort, guest_port: guestPort, owner } as const;
  const { reply } = await controlCall(vm, request, PORT_CODES);
  return reply.port as PublishedPort;
}

/** Closes a published host port and resets its open connections. */
export async function unpublishPort(vm: SupervisorTarget, hostPort: number): Promise<PublishedPort> {
  const { reply } = await controlCall(vm, { op: "unpublish", host_port: hostPort }, PORT_CODES);
  return reply.port as PublishedPort;
}

export async function listPublishedPorts(vm: SupervisorTarget): Promise<PublishedPort[]> {
  const { reply } = await controlCall(vm, { op: "ports" }, PORT_CODES);
  return reply.ports as PublishedPort[];
}
