import { PyroError } from "../errors/index.js";
import { kvmDeviceStatus } from "./kvm-device.js";
import { rankProbes } from "./rank.js";
import { DRIVERS, PLANNED_DRIVERS } from "./registry.js";
import type { DriverProbe, KvmStatus, MachineCheck, ProbeContext } from "./types.js";

/** What `pyro doctor` shows about execution backends, read from their reports and probes. */
export interface MachineSurvey {
  /** Every driver's tool and hardening lines, in registry order. */
  checks: MachineCheck[];
  /** Each tool's path (null: not found), keyed as doctor's JSON shows them. */
  tools: Record<string, string | null>;
  kvm: KvmStatus;
  /** What auto selection boots guests with here ("qemu (tcg)"), or null when no guest can boot. */
  selected: string | null;
}

export async function surveyMachines(context: ProbeContext): Promise<MachineSurvey> {
  const reports = [];
  for (const driver of DRIVERS) reports.push(await driver.report());
  const planned = PLANNED_DRIVERS.map((driver) => driver.report());
  const probes: DriverProbe[] = [];
  for (const driver of DRIVERS) probes.push(await driver.probe(context));
  const checks = [...reports, ...planned].flatMap((report) => report.checks);
  const tools = Object.fromEntries(
    [...reports, ...planned].flatMap((report) => Object.entries(report.tools)),
  );
  const kvm = probes.find((probe) => probe.kvm !== null)?.kvm ?? kvmDeviceStatus();
  return { checks, tools, kvm, selected: await autoSelection(probes, reports, context) };
}

async function autoSelection(
  probes: readonly DriverProbe[],
  reports: readonly { complete: boolean }[],
  context: ProbeContext,
): Promise<string | null> {
  let best: DriverProbe;
  try {
    best = rankProbes(probes, { requested: "auto", allowHostCompat: false });
  } catch (error) {
    if (error instanceof PyroError && error.code === "BACKEND_UNAVAILABLE") return null;
    throw error;
  }
  const complete = reports[probes.indexOf(best)]?.complete === true;
  return complete && (await context.artifacts()) !== null ? `${best.name} (${best.accel})` : null;
}
