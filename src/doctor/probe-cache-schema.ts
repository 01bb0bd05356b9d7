import { z } from "zod";

const MachineCheck = z.object({
  name: z.string(),
  status: z.enum(["PASS", "FAIL", "WARN"]),
  detail: z.string(),
  fix: z.string().nullable(),
});

/**
 * doctor's host measurements as cached in <home>/doctor-probe.json: the machine drivers' survey
 * (tools, hardening, KVM, auto selection) and pyro-netstack's hardening report, with what they
 * were measured against (`inputs`: kernel, environment, and each file's identity).
 */
export const DoctorProbeCache = z.object({
  schema: z.literal(1),
  measured_at: z.string(),
  inputs: z.record(z.string(), z.string()),
  survey: z.object({
    checks: z.array(MachineCheck),
    tools: z.record(z.string(), z.string().nullable()),
    kvm: z.object({
      device: z.string(),
      exists: z.boolean(),
      readable: z.boolean(),
      writable: z.boolean(),
      usable: z.boolean().nullable(),
      evidence: z.string(),
      probed_at: z.string().nullable(),
      cached: z.boolean(),
    }),
    selected: z.string().nullable(),
  }),
  hardening: z.array(MachineCheck),
});
export type DoctorProbeCache = z.infer<typeof DoctorProbeCache>;
