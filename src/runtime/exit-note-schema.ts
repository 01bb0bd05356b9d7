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
    /** The VM was saved to disk (a pause, asked for or at idle expiry) and its processes ended. */
    "paused",
    /** Written by the death guard (death-guard.ts), not by the supervisor. */
    "supervisor_died",
  ]),
  at: z.string(),
  detail: z.string(),
  vmm_exit_code: z.number().int().nullable(),
  vmm_signal: z.string().nullable(),
});
export type VmExit = z.infer<typeof VmExit>;
