import { readFileSync } from "node:fs";

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
