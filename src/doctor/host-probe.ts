import { composeGuestInitrd } from "../machine/guest-initrd.js";
import { netstackHardeningChecks } from "../machine/network/netstack-hardening.js";
import { surveyMachines } from "../machine/survey.js";
import type { MachineCheck } from "../machine/types.js";
import type { DoctorProbeCache } from "./probe-cache-schema.js";

/** What the host's boot artifacts are, when an environment is installed and the agent built. */
export interface ProbeArtifacts {
  agent: string | null;
  environment: { kernelPath: string; initramfsPath: string; rootfsPath: string; kernelDigest: string } | null;
}

/**
 * The measurements doctor caches: every machine driver's probe (which runs the VMM, and boots a
 * guest once to probe KVM) and pyro-netstack's hardening report. Loaded only when they are taken,
 * so a doctor answered from the cache loads no driver.
 */
export async function measureHost(
  stateDir: string,
  artifacts: ProbeArtifacts,
  helper: string | null,
): Promise<{ survey: DoctorProbeCache["survey"]; hardening: MachineCheck[] }> {
  const { agent, environment } = artifacts;
  const survey = await surveyMachines({
    agentBinary: agent,
    measure: true,
    stateDir,
    artifacts: async () =>
      environment === null || agent === null
        ? null
        : {
            kernel: environment.kernelPath,
            initramfs: composeGuestInitrd(environment.initramfsPath, agent, stateDir),
            rootfs: environment.rootfsPath,
            kernelDigest: environment.kernelDigest,
          },
  });
  return { survey, hardening: await netstackHardeningChecks(helper) };
}
