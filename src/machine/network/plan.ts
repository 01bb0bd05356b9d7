import type { GuestNetwork } from "./guest-network.js";
import { netstackBinary } from "./netstack.js";
import { PyroError } from "../../errors/index.js";
import { readDefaultRoute } from "./host-route.js";
import { nativePartMissing } from "../../platform/install-kind.js";

// The virtual network pyro-netstack (libslirp) serves to each guest: every VM has its own.
const VIRTUAL_NETWORK = { address: "10.0.2.15", prefix_length: 24, gateway: "10.0.2.2", dns: "10.0.2.3" };
// Large frames: fewer packets matter a lot when the guest is emulated (about 25% faster under TCG).
const GUEST_MTU = 65520;

export interface NetworkAvailability {
  egress: boolean;
  reason: string;
  helper: string | null;
}

export function networkAvailability(): NetworkAvailability {
  const helper = netstackBinary();
  if (helper === null) {
    return { egress: false, reason: nativePartMissing("netstack"), helper };
  }
  const route = readDefaultRoute();
  const uplink =
    route === null
      ? "the host has no IPv4 default route, so guests reach only what the host itself can"
      : `host uplink ${route.interface} via ${route.gateway}`;
  return {
    egress: true,
    reason: `user-mode NAT by pyro-netstack (libslirp behind a frame filter: no host-local or private destination); ${uplink}`,
    helper,
  };
}

export function planGuestNetwork(allowPrivateEgress: boolean): GuestNetwork {
  const availability = networkAvailability();
  if (!availability.egress) {
    throw new PyroError("NETWORK_UNAVAILABLE", `guest networking is not available: ${availability.reason}`, {
      hint: "Run `pyro doctor` to see what networking this host offers, or use network policy off.",
    });
  }
  return {
    ...VIRTUAL_NETWORK,
    mtu: GUEST_MTU,
    helper: "pyro-netstack",
    allow_private_egress: allowPrivateEgress,
  };
}
