import { PyroError } from "../../errors/index.js";
import { readHostUplink, readResolvers } from "./host-route.js";
import type { GuestNetwork } from "../../backends/network/guest-network.js";
import { passtBinary } from "../../backends/network/passt.js";

// passt's largest frame: fewer, larger packets matter a lot under emulation.
const GUEST_MTU = 65520;

export interface NetworkAvailability {
  egress: boolean;
  reason: string;
  passt: string | null;
}

export function networkAvailability(): NetworkAvailability {
  const passt = passtBinary();
  if (passt === null)
    return { egress: false, reason: "passt is not installed (apt-get install passt)", passt };
  const uplink = readHostUplink();
  if (uplink === null)
    return { egress: false, reason: "the host has no IPv4 default route with an address", passt };
  return {
    egress: true,
    reason: `user-mode NAT by passt via ${uplink.interface} (gateway ${uplink.gateway}); host loopback not reachable`,
    passt,
  };
}

/**
 * The guest mirrors the host's uplink (address, prefix, gateway), as passt presents it: the
 * guest's packets leave as the host's own. DNS goes to the gateway address, which passt maps
 * to the host's first resolver.
 */
export function planGuestNetwork(): GuestNetwork {
  const availability = networkAvailability();
  const uplink = readHostUplink();
  if (!availability.egress || uplink === null) {
    throw new PyroError("NETWORK_UNAVAILABLE", `guest networking is not available: ${availability.reason}`, {
      hint: "Run `pyro doctor` to see what networking this host offers, or use network policy off.",
    });
  }
  return {
    address: uplink.address,
    prefix_length: uplink.prefixLength,
    gateway: uplink.gateway,
    dns: readResolvers().length > 0 ? uplink.gateway : null,
    mtu: GUEST_MTU,
    host_interface: uplink.interface,
    helper: "passt",
  };
}
