import { PyroError } from "../errors/index.js";
import { rankProbes } from "./rank.js";
import { DRIVERS, driverByName } from "./registry.js";
import type {
  Accel,
  BootArtifacts,
  DriverProbe,
  ExecutionMode,
  MachineDriver,
  ProbeContext,
} from "./types.js";

export interface MachineChoice {
  driver: MachineDriver;
  accel: Accel;
  executionMode: ExecutionMode;
  /** What the chosen driver boots; null when it boots no guest (the agent runs on the host). */
  boot: BootArtifacts | null;
}

export interface SelectionInput {
  /** A driver's name or "auto"; PYRO_BACKEND when not given. */
  requested: string | undefined;
  allowHostCompat: boolean;
  /** The guest gets a network device (any policy but off). */
  needsNetwork: boolean;
  context: ProbeContext;
}

/**
 * Probes the drivers and runs the best (firecracker > qemu+kvm > qemu+tcg), or the one asked for
 * with --backend / PYRO_BACKEND. Whether a guest boots at all is decided here: boot artifacts are
 * resolved only for a driver that boots one.
 */
export async function selectMachine(input: SelectionInput): Promise<MachineChoice> {
  const requested = input.requested ?? process.env.PYRO_BACKEND ?? "auto";
  const context = resolvingOnce(input.context);
  const candidates = requested === "auto" ? DRIVERS : [driverByName(requested)];
  const probes: DriverProbe[] = [];
  for (const driver of candidates) probes.push(await driver.probe(context));
  const chosen = rankProbes(probes, { requested, allowHostCompat: input.allowHostCompat });
  const driver = driverByName(chosen.name);
  if (input.needsNetwork && driver.network.kind === "none") {
    throw new PyroError("NETWORK_UNAVAILABLE", "host-compat mode cannot give a guest its own network", {
      hint: "Network policies need a guest backend; run `pyro doctor`.",
    });
  }
  const boot = chosen.isolated ? await context.artifacts() : null;
  if (chosen.isolated && boot === null) throw new PyroError("INTERNAL", "no boot artifacts for the guest");
  return { driver, accel: chosen.accel, executionMode: driver.executionMode, boot };
}

/** Boot artifacts may be costly (an environment pull): resolved at most once per selection. */
function resolvingOnce(context: ProbeContext): ProbeContext {
  let artifacts: Promise<BootArtifacts | null> | null = null;
  return { ...context, artifacts: () => (artifacts ??= context.artifacts()) };
}
