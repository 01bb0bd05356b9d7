import { findExecutable } from "../../platform/find-executable.js";
import type { GuestNetwork } from "./guest-network.js";

export function passtBinary(): string | null {
  return findExecutable(process.env.PYRO_PASST_BIN ?? "passt");
}

/**
 * passt serves one guest over an inherited socket and quits when it closes. `--no-map-gw`
 * keeps the gateway address from being mapped to the host's loopback, so the guest cannot
 * reach services listening on the host's 127.0.0.1; nothing is forwarded inwards.
 */
export function passtArgs(plan: GuestNetwork, fd: number): string[] {
  const args = ["--foreground", "--quiet", "--ipv4-only", "--no-map-gw", "--fd", String(fd)];
  args.push("--address", plan.address, "--netmask", String(plan.prefix_length));
  args.push("--gateway", plan.gateway, "--interface", plan.host_interface);
  args.push("--tcp-ports", "none", "--udp-ports", "none");
  if (plan.dns !== null) args.push("--dns-forward", plan.dns);
  else args.push("--dns", "none");
  return args;
}
