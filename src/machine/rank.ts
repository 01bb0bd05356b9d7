import { PyroError } from "../errors/index.js";
import type { Accel, DriverProbe } from "./types.js";

const ACCEL_ORDER: Readonly<Record<Accel, number>> = { kvm: 2, tcg: 1, none: 0 };

export interface RankRequest {
  /** A driver's name, or "auto". */
  requested: string;
  allowHostCompat: boolean;
}

/**
 * Picks the driver to run from probes given in registry order: isolated before not, then by
 * acceleration (hardware, emulation, none), then registry order. A driver without isolation is
 * chosen only when the user opted in; nothing falls back to it silently. Pure: unit-tested.
 */
export function rankProbes(probes: readonly DriverProbe[], request: RankRequest): DriverProbe {
  if (request.requested !== "auto") return requestedProbe(probes, request);
  const eligible = probes
    .map((probe, order) => ({ probe, order }))
    .filter(({ probe }) => probe.available && (probe.isolated || request.allowHostCompat))
    .sort(
      (a, b) =>
        Number(b.probe.isolated) - Number(a.probe.isolated) ||
        ACCEL_ORDER[b.probe.accel] - ACCEL_ORDER[a.probe.accel] ||
        a.order - b.order,
    );
  const best = eligible[0];
  if (best !== undefined) return best.probe;
  const guests = probes.filter((probe) => probe.isolated);
  const fixes = guests.flatMap((probe) => (probe.fix === null ? [] : [probe.fix]));
  const optIn = "pass --allow-host-compat to run without isolation.";
  throw new PyroError(
    "BACKEND_UNAVAILABLE",
    `no guest can run here: ${guests.map((probe) => probe.evidence).join("; ") || "no isolated backend"}`,
    { hint: fixes.length === 0 ? `Run \`pyro doctor\`, or ${optIn}` : `${fixes.join("; ")}, or ${optIn}` },
  );
}

function requestedProbe(probes: readonly DriverProbe[], request: RankRequest): DriverProbe {
  const probe = probes.find((candidate) => candidate.name === request.requested);
  if (probe === undefined) throw new PyroError("INTERNAL", `backend ${request.requested} was not probed`);
  if (!probe.isolated && !request.allowHostCompat) {
    throw new PyroError("INVALID_ARGUMENT", `the ${probe.name} backend runs commands without isolation`, {
      hint: "Pass --allow-host-compat to accept that, or leave --backend at auto.",
    });
  }
  if (!probe.available) {
    throw new PyroError(
      "BACKEND_UNAVAILABLE",
      `the ${probe.name} backend cannot run here: ${probe.evidence}`,
      {
        hint: probe.fix ?? "Run `pyro doctor`.",
      },
    );
  }
  return probe;
}
