import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { guestNetworkKernelArg, type GuestNetwork } from "../../src/machine/network/guest-network.js";
import { netstackArgs } from "../../src/machine/network/netstack.js";
import { readDefaultRoute } from "../../src/machine/network/host-route.js";
import { parsePortSpec } from "../../src/sandbox/network/publishing.js";
import { hostCheckFor } from "../../src/sandbox/workspace/readiness.js";

const dir = mkdtempSync(join(tmpdir(), "pyro-net-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

const plan: GuestNetwork = {
  address: "10.0.2.15",
  prefix_length: 24,
  gateway: "10.0.2.2",
  dns: "10.0.2.3",
  mtu: 1500,
  helper: "pyro-netstack",
  allow_private_egress: false,
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

  it("tells the agent the whole interface config on the kernel command line", () => {
    expect(guestNetworkKernelArg(plan)).toBe("pyro.net=10.0.2.15/24,10.0.2.2,10.0.2.3,1500");
    expect(guestNetworkKernelArg({ ...plan, dns: null })).toContain(",-,");
  });

  it("starts pyro-netstack on the inherited fd with the guest's MTU", () => {
    expect(netstackArgs(plan, 3)).toEqual(["--fd", "3", "--mtu", "1500"]);
    expect(netstackArgs({ ...plan, allow_private_egress: true }, 3)).toEqual([
      "--fd",
      "3",
      "--mtu",
      "1500",
      "--allow-private-egress",
    ]);
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

  it("checks http readiness through the published port that serves the URL's guest port", () => {
    const ports = [
      { host_port: 18080, guest_port: 8080 },
      { host_port: 18081, guest_port: 80 },
    ];
    const http = (url: string) => ({ type: "http" as const, url });
    expect(hostCheckFor(http("http://127.0.0.1:8080/health"), ports)).toEqual({
      url: "http://127.0.0.1:8080/health",
      hostPort: 18080,
    });
    expect(hostCheckFor(http("http://localhost/"), ports)?.hostPort).toBe(18081);
    expect(hostCheckFor(http("http://127.0.0.1:9000/"), ports)).toBeNull();
    expect(hostCheckFor(http("https://127.0.0.1:8080/"), ports)).toBeNull();
    expect(hostCheckFor({ type: "tcp", host: "127.0.0.1", port: 8080 }, ports)).toBeNull();
  });
});
