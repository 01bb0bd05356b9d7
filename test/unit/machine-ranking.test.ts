import { describe, expect, it } from "vitest";
import { PyroError } from "../../src/errors/index.js";
import { rankProbes, type RankRequest } from "../../src/machine/rank.js";
import type { Accel, DriverProbe } from "../../src/machine/types.js";

const probe = (name: string, accel: Accel, extra: Partial<DriverProbe> = {}): DriverProbe => ({
  name,
  available: true,
  isolated: accel !== "none",
  accel,
  evidence: `${name} probed`,
  fix: null,
  kvm: null,
  ...extra,
});

const down = (name: string, evidence: string, fix: string): DriverProbe =>
  probe(name, "none", { available: false, isolated: true, evidence, fix });

const auto: RankRequest = { requested: "auto", allowHostCompat: false };
const autoWithHost: RankRequest = { requested: "auto", allowHostCompat: true };

function refusal(probes: DriverProbe[], request: RankRequest): PyroError {
  try {
    rankProbes(probes, request);
  } catch (error) {
    if (error instanceof PyroError) return error;
    throw error;
  }
  throw new Error("rankProbes chose a driver");
}

describe("ranking machine drivers by their probes", () => {
  it("prefers hardware acceleration, then emulation; registry order breaks ties", () => {
    const firecracker = probe("firecracker", "kvm");
    const qemuKvm = probe("qemu", "kvm");
    const qemuTcg = probe("qemu", "tcg");
    const host = probe("host", "none");
    expect(rankProbes([firecracker, qemuKvm, host], auto)).toBe(firecracker);
    expect(rankProbes([firecracker, qemuTcg, host], auto)).toBe(firecracker);
    expect(rankProbes([qemuKvm, firecracker], auto)).toBe(qemuKvm);
    // KVM that failed its test boot leaves firecracker unavailable and qemu on TCG.
    expect(rankProbes([down("firecracker", "KVM unusable", "use another host"), qemuTcg, host], auto)).toBe(
      qemuTcg,
    );
  });

  it("never falls back to the host silently, and even when allowed only when no guest can run", () => {
    const host = probe("host", "none");
    const qemu = probe("qemu", "tcg");
    expect(rankProbes([qemu, host], autoWithHost)).toBe(qemu);
    const missing = down("qemu", "qemu-system-x86_64 is not installed", "Install it (apt-get install qemu)");
    expect(rankProbes([missing, host], autoWithHost)).toBe(host);
    const error = refusal([missing, host], auto);
    expect(error.code).toBe("BACKEND_UNAVAILABLE");
    expect(error.message).toBe("no guest can run here: qemu-system-x86_64 is not installed");
    expect(error.hint).toBe(
      "Install it (apt-get install qemu), or pass --allow-host-compat to run without isolation.",
    );
  });

  it("runs the driver asked for, refusing an unisolated one without the opt-in and an unavailable one", () => {
    const host = probe("host", "none");
    const qemu = probe("qemu", "tcg");
    expect(rankProbes([host], { requested: "host", allowHostCompat: true })).toBe(host);
    expect(rankProbes([qemu], { requested: "qemu", allowHostCompat: false })).toBe(qemu);
    expect(refusal([host], { requested: "host", allowHostCompat: false }).code).toBe("INVALID_ARGUMENT");
    const missing = down("qemu", "qemu-system-x86_64 is not installed", "install it");
    const error = refusal([missing], { requested: "qemu", allowHostCompat: true });
    expect(error.code).toBe("BACKEND_UNAVAILABLE");
    expect(error.hint).toBe("install it");
  });
});
