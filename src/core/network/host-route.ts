import { readFileSync } from "node:fs";
import { networkInterfaces } from "node:os";

/** The host's IPv4 default route and the address of the interface it leaves by. */
export interface HostUplink {
  interface: string;
  gateway: string;
  address: string;
  prefixLength: number;
}

const RTF_UP = 0x1;

/** /proc/net/route stores addresses as little-endian hex. */
function hexToIpv4(hex: string): string {
  const value = Number.parseInt(hex, 16);
  return [0, 8, 16, 24].map((shift) => (value >>> shift) & 0xff).join(".");
}

/** The default route with the lowest metric, or null when the host has none. */
export function readDefaultRoute(
  routeTable = "/proc/net/route",
): { interface: string; gateway: string } | null {
  let text: string;
  try {
    text = readFileSync(routeTable, "utf8");
  } catch {
    return null;
  }
  let best: { interface: string; gateway: string; metric: number } | null = null;
  for (const line of text.split("\n").slice(1)) {
    const [iface, destination, gateway, flags, , , metric, mask] = line.trim().split(/\s+/);
    if (iface === undefined || mask === undefined || gateway === undefined) continue;
    if (destination !== "00000000" || mask !== "00000000") continue;
    if ((Number.parseInt(flags ?? "0", 16) & RTF_UP) === 0) continue;
    const candidate = { interface: iface, gateway: hexToIpv4(gateway), metric: Number(metric) };
    if (best === null || candidate.metric < best.metric) best = candidate;
  }
  return best === null ? null : { interface: best.interface, gateway: best.gateway };
}

export function readHostUplink(): HostUplink | null {
  const route = readDefaultRoute();
  if (route === null) return null;
  const ipv4 = networkInterfaces()[route.interface]?.find((entry) => entry.family === "IPv4");
  if (ipv4?.cidr === undefined || ipv4.cidr === null) return null;
  const prefixLength = Number(ipv4.cidr.split("/")[1]);
  return { ...route, address: ipv4.address, prefixLength };
}

/** IPv4 nameservers of /etc/resolv.conf, in order. */
export function readResolvers(resolvConf = "/etc/resolv.conf"): string[] {
  try {
    return readFileSync(resolvConf, "utf8")
      .split("\n")
      .map((line) => /^\s*nameserver\s+(\d+\.\d+\.\d+\.\d+)\s*$/.exec(line)?.[1])
      .filter((address): address is string => address !== undefined);
  } catch {
    return [];
  }
}
