import type { DoctorCheck } from "./doctor.js";

/** The one-line answer doctor opens with: can this host run guests, and if not, the first reason. */
export interface RuntimeVerdict {
  runtime_ok: boolean;
  /** The first failing check as `name: detail`, or null when none failed. */
  runtime_failure: string | null;
}

export function runtimeVerdict(checks: readonly DoctorCheck[]): RuntimeVerdict {
  const failed = checks.find((check) => check.status === "FAIL");
  return {
    runtime_ok: failed === undefined,
    runtime_failure: failed === undefined ? null : `${failed.name}: ${failed.detail}`,
  };
}

export function verdictLine(verdict: RuntimeVerdict): string {
  return verdict.runtime_ok ? "Runtime: PASS" : `Runtime: FAIL (${verdict.runtime_failure ?? "unknown"})`;
}
