import { PyroError } from "../errors/index.js";
import { findExecutable } from "../platform/find-executable.js";
import type { DriverReport } from "./types.js";

/** A backend users can already name (--backend, doctor) whose driver is not built in this version. */
export interface PlannedDriver {
  readonly name: string;
  report(): DriverReport;
  unavailable(): PyroError;
}

/** `binaryVariable` names the environment variable that points at its binary (else PATH). */
export function plannedDriver(name: string, binaryVariable: string): PlannedDriver {
  return {
    name,
    report() {
      const binary = findExecutable(process.env[binaryVariable] ?? name);
      return {
        checks: [
          binary !== null
            ? { name, status: "PASS", detail: binary, fix: null }
            : {
                name,
                status: "WARN",
                detail: "not found (optional)",
                fix: `Put ${name} on PATH or set ${binaryVariable} to use it.`,
              },
        ],
        tools: { [name]: binary },
        complete: false,
      };
    },
    unavailable: () =>
      new PyroError("BACKEND_UNAVAILABLE", `the ${name} backend is not available in this version`, {
        hint: "Leave --backend at auto (`pyro doctor` shows what it picks).",
      }),
  };
}
