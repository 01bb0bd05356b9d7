import type { GuestNetwork } from "../../machine/network/guest-network.js";
import type { Accel, BootArtifacts, MachineDriver } from "../../machine/types.js";
import type { PhaseReporter } from "../../platform/phases.js";
import { templateFor, type TemplateChoice } from "../templates/ensure.js";
import { workspaceDiskImages } from "../templates/disks.js";
import type { SandboxStore } from "../store.js";

export interface TemplateRequest {
  /** The agent binary the guest's initrd carries (selection already resolved it). */
  agentBinary: string;
  environment: string;
  vcpuCount: number;
  memMib: number;
  /** The guest's network as every VM of this shape gets it (null: no device). */
  network: GuestNetwork | null;
  driver: MachineDriver;
  accel: Accel;
  boot: BootArtifacts | null;
  onPhase: PhaseReporter;
}

/** The memory template a new VM restores from, or why it boots cold (never an error). */
export async function chooseTemplate(store: SandboxStore, request: TemplateRequest): Promise<TemplateChoice> {
  const { driver, accel, boot } = request;
  if (!store.templates) return { kind: "cold", reason: "memory templates are off (PYRO_TEMPLATES=off)" };
  if (!driver.capabilities.memorySnapshot || boot === null || accel === "none")
    return { kind: "cold", reason: `the ${driver.name} backend cannot restore memory` };
  const disks = workspaceDiskImages(driver, store);
  if (disks === null) return { kind: "cold", reason: `the ${driver.name} backend has no workspace disks` };
  return templateFor(
    store.home,
    {
      environment: request.environment,
      vcpuCount: request.vcpuCount,
      memMib: request.memMib,
      network: request.network !== null,
    },
    {
      driver,
      accel,
      boot,
      agentBinary: request.agentBinary,
      network: request.network,
      bootTimeoutMs: store.bootTimeoutMs,
    },
    disks,
    request.onPhase,
  );
}
