import { readFileSync } from "node:fs";

/**
 * The host TSC frequency in kHz, passed to a TCG guest as `tsc_early_khz`. Without it the guest
 * sometimes fails to calibrate its TSC against the PIT under host load and freezes while booting.
 */
export function hostTscKhz(cpuinfo = readCpuinfo()): number | null {
  const match = /^cpu MHz\s*:\s*([\d.]+)/m.exec(cpuinfo);
  if (match === null) return null;
  const khz = Math.round(Number.parseFloat(match[1] as string) * 1000);
  return Number.isFinite(khz) && khz > 0 ? khz : null;
}

function readCpuinfo(): string {
  try {
    return readFileSync("/proc/cpuinfo", "utf8");
  } catch {
    return "";
  }
}
