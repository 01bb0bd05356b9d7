import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";

/** How a VM's run ended (exit.json in its folder), written once by its supervisor, read by later status calls. */
export const VmExit = z.object({
  reason: z.enum([
    "shutdown",
    "ttl_expired",
    "owner_exited",
    "vmm_exited",
    "protocol_error",
    "boot_failed",
    /** Written by the death guard (death-guard.ts), not by the supervisor. */
    "supervisor_died",
  ]),
  at: z.string(),
  detail: z.string(),
  vmm_exit_code: z.number().int().nullable(),
  vmm_signal: z.string().nullable(),
});
export type VmExit = z.infer<typeof VmExit>;

export const exitPath = (dir: string): string => join(dir, "exit.json");

/** The exit note of the VM in `dir`, or null while it runs (or when the note is unreadable). */
export function readVmExit(dir: string): VmExit | null {
  const path = exitPath(dir);
  if (!existsSync(path)) return null;
  try {
    const parsed = VmExit.safeParse(JSON.parse(readFileSync(path, "utf8")));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export function describeExit(exit: VmExit): string {
  return `${exit.reason.replace(/_/g, " ")} at ${exit.at}: ${exit.detail}`;
}
