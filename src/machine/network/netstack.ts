import { existsSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../../platform/package-info.js";
import type { GuestNetwork } from "./guest-network.js";

/**
 * The user-mode network helper: netstack/build/pyro-netstack, where `npm run build` puts it in a
 * checkout and where the npm package ships it, its bundled libraries beside it in lib/
 * (PYRO_NETSTACK_BIN overrides it).
 */
export function netstackBinary(): string | null {
  const path = process.env.PYRO_NETSTACK_BIN ?? join(packageRoot(), "netstack", "build", "pyro-netstack");
  return existsSync(path) ? path : null;
}

/** pyro-netstack serves one guest over an inherited socket and quits when it closes. */
export function netstackArgs(plan: GuestNetwork, fd: number): string[] {
  const args = ["--fd", String(fd), "--mtu", String(plan.mtu)];
  return plan.allow_private_egress ? [...args, "--allow-private-egress"] : args;
}
