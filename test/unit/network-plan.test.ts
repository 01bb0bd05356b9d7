import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { guestNetworkKernelArg, type GuestNetwork } from "../../src/backends/network/guest-network.js";
import { passtArgs } from "../../src/backends/network/passt.js";
import { readDefaultRoute, readResolvers } from "../../src/core/network/host-route.js";
import { parsePortSpec } from "../../src/core/network/publishing.js";

const dir = mkdtempSync(join(tmpdir(), "pyro-net-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

const plan: GuestNetwork = {
  address: "192.0.2.2",
  prefix_length: 24,
  gateway: "192.0.2.1",
  dns: "192.0.2.1",
  mtu: 65520,
  host_interface: "eth0",
  helper: "passt",
};

describe("guest network plan", () => {
  it("picks the default route with the lowest metric from /proc/net/route", () => {
    const table = file(
      "route",
      [
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT",
        "wlan0\t00000000\t0102A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0",
        "eth0\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0",
        "eth0\t000200C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0",
      ].join("\n"),
    );
    expect(readDefaultRoute(table)).toEqual({ interface: "eth0", gateway: "192.0.2.1" });
    expect(readDefaultRoute(file("empty", "Iface\tDestination\n"))).toBeNull();
    expect(readDefaultRoute(join(dir, "missing"))).toBeNull();
  });

  it("reads IPv4 resolvers only", () => {
    const conf = file("resolv", "# c\nnameserver 10.0.0.53\nnameserver ::1\nsearch x\nnameserver 1.2.3.4\n");
    expect(readResolvers(conf)).toEqual(["10.0.0.53", "1.2.3.4"]);
  });

  it("tells the agent the whole interface config on the kernel command line", () => {
    expect(guestNetworkKernelArg(plan)).toBe("pyro.net=192.0.2.2/24,192.0.2.1,192.0.2.1,65520");
    expect(guestNetworkKernelArg({ ...plan, dns: null })).toContain(",-,");
  });

  it("starts passt on the inherited fd with the gateway not mapped to the host's loopback", () => {
    const args = passtArgs(plan, 3);
    expect(args).toEqual(expect.arrayContaining(["--no-map-gw", "--ipv4-only", "--foreground"]));
    expect(args.join(" ")).toContain("--fd 3");
    expect(args.join(" ")).toContain("--tcp-ports none --udp-ports none");
    expect(args.join(" ")).toContain("--dns-forward 192.0.2.1");
    expect(passtArgs({ ...plan, dns: null }, 3).join(" ")).toContain("--dns none");
  });

  it("parses HOSTPORT:GUESTPORT, and GUESTPORT alone as any host port", () => {
    expect(parsePortSpec("8080:80")).toEqual({ host_port: 8080, guest_port: 80 });
    expect(parsePortSpec("0:3000")).toEqual({ host_port: 0, guest_port: 3000 });
    expect(parsePortSpec("3000")).toEqual({ host_port: 0, guest_port: 3000 });
    for (const bad of ["", "80:0", "70000:80", "a:80", "1:2:3", "-1:80"]) {
      expect(() => parsePortSpec(bad), bad).toThrowError(
        expect.objectContaining({ code: "INVALID_ARGUMENT" }),
      );
    }
  });
});
