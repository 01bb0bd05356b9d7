import { PyroError } from "../errors/index.js";
import { hostDriver } from "./host/driver.js";
import { plannedDriver } from "./planned.js";
import { qemuDriver } from "./qemu/driver.js";
import type { MachineDriver } from "./types.js";

/**
 * Every execution backend: the only place that names them. Selection ranks them by their probes;
 * between equal probes, the one listed first wins.
 */
export const DRIVERS: readonly MachineDriver[] = [qemuDriver, hostDriver];

/** Backends that --backend and doctor already name but that are not built in this version. */
export const PLANNED_DRIVERS = [plannedDriver("firecracker", "PYRO_FIRECRACKER_BIN")];

export const DRIVER_NAMES: readonly string[] = [...DRIVERS, ...PLANNED_DRIVERS].map((driver) => driver.name);

export function driverByName(name: string): MachineDriver {
  const driver = DRIVERS.find((candidate) => candidate.name === name);
  if (driver !== undefined) return driver;
  const planned = PLANNED_DRIVERS.find((candidate) => candidate.name === name);
  if (planned !== undefined) throw planned.unavailable();
  throw new PyroError("INVALID_ARGUMENT", `unknown backend "${name}"`, {
    hint: `Use auto, ${DRIVER_NAMES.join(", ")}.`,
  });
}
