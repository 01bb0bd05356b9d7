import type { SandboxStore } from "../store.js";
import { PyroError } from "../../errors/index.js";
import { supervisorControl } from "../supervisor-client.js";
import type { PublishedPort } from "../../runtime/published-ports.js";
import { readWorkspaceRecord } from "../workspace/record.js";
import { allowsPublishing } from "./policy.js";

export interface PortRequest {
  host_port: number;
  guest_port: number;
}

const invalid = (what: string, text: string): PyroError =>
  new PyroError("INVALID_ARGUMENT", `invalid ${what} ${JSON.stringify(text)}`, {
    hint: "Publish as HOSTPORT:GUESTPORT, e.g. 8080:80 (host port 0 lets the host choose).",
  });

function port(text: string, what: string, allowZero: boolean): number {
  const value = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(value >= (allowZero ? 0 : 1) && value <= 65535)) throw invalid(what, text);
  return value;
}

/** "HOSTPORT:GUESTPORT" (or "GUESTPORT", which lets the host choose the host port). */
export function parsePortSpec(spec: string): PortRequest {
  const parts = spec.trim().split(":");
  if (parts.length === 1) return { host_port: 0, guest_port: port(parts[0] as string, "guest port", false) };
  if (parts.length !== 2) throw invalid("port mapping", spec);
  return {
    host_port: port(parts[0] as string, "host port", true),
    guest_port: port(parts[1] as string, "guest port", false),
  };
}

/** Refuses unless the workspace's policy lets it publish ports. */
export function checkPublishingAllowed(store: SandboxStore, workspaceId: string): void {
  const policy = readWorkspaceRecord(store, workspaceId).network_policy;
  if (!allowsPublishing(policy)) {
    throw new PyroError(
      "NETWORK_POLICY_DENIED",
      `workspace ${workspaceId} has network policy ${policy}, which does not publish ports`,
    );
  }
}

/**
 * Publishes each port for the service, all or nothing: when one host port is taken, the ones
 * already published are released before the error is raised.
 */
export async function publishPorts(
  store: SandboxStore,
  vmId: string,
  requests: readonly PortRequest[],
  service: string,
): Promise<PublishedPort[]> {
  const published: PublishedPort[] = [];
  try {
    for (const request of requests) {
      published.push(
        await supervisorControl(store, vmId).publish({
          host_port: request.host_port,
          guest_port: request.guest_port,
          owner: service,
        }),
      );
    }
  } catch (error) {
    await releasePorts(store, vmId, published);
    throw error;
  }
  return published;
}

/** Undoes publishPorts after a failure; what cannot be released goes when the VM stops. */
export async function releasePorts(
  store: SandboxStore,
  vmId: string,
  ports: readonly PublishedPort[],
): Promise<void> {
  for (const port of ports)
    await supervisorControl(store, vmId)
      .unpublish({ host_port: port.host_port })
      .catch(() => undefined);
}
