import type { DriverReport, MachineCheck, MachineDriver } from "../types.js";
import { attachByFd } from "../network/fd-attachment.js";
import { qemuBinary, qemuImgBinary } from "./binary.js";
import { qcow2Overlay } from "./disk.js";
import { vmmHardeningChecks } from "./doctor-vmm.js";
import { kvmStatus } from "./kvm-probe.js";
import { launchQemu } from "./launch.js";
import { qcow2WorkspaceImage } from "./workspace-image.js";

const INSTALL = "apt-get install --no-install-recommends qemu-system-x86";

/** QEMU `-M microvm`: KVM when a test boot proves it works here, else TCG emulation. */
export const qemuDriver: MachineDriver = {
  name: "qemu",
  executionMode: "guest_serial",
  disk: qcow2Overlay,
  network: { kind: "fd", attach: attachByFd },
  capabilities: { memorySnapshot: true, pause: true, diskSnapshot: true },
  workspaceImage: qcow2WorkspaceImage,

  async probe(context) {
    const kvm = await kvmStatus({
      artifacts: () => context.artifacts(),
      agentBinary: context.agentBinary,
      probe: context.measure,
      stateDir: context.stateDir,
    });
    const base = { name: "qemu", isolated: true, kvm };
    if (qemuBinary() === null) {
      return {
        ...base,
        available: false,
        accel: "none",
        evidence: "qemu-system-x86_64 is not installed",
        fix: "Install it (apt-get install qemu-system-x86 qemu-utils)",
      };
    }
    return kvm.usable === true
      ? { ...base, available: true, accel: "kvm", evidence: kvm.evidence, fix: null }
      : { ...base, available: true, accel: "tcg", evidence: `TCG emulation: ${kvm.evidence}`, fix: null };
  },

  async report(): Promise<DriverReport> {
    const qemu = qemuBinary();
    const qemuImg = qemuImgBinary();
    const checks: MachineCheck[] = [
      qemu !== null
        ? { name: "qemu", status: "PASS", detail: qemu, fix: null }
        : { name: "qemu", status: "FAIL", detail: "qemu-system-x86_64 not found", fix: INSTALL },
      qemuImg !== null
        ? { name: "qemu-img", status: "PASS", detail: qemuImg, fix: null }
        : { name: "qemu-img", status: "FAIL", detail: "not found", fix: "apt-get install qemu-utils" },
    ];
    if (qemu !== null) checks.push(...(await vmmHardeningChecks(qemu)));
    return { checks, tools: { qemu, qemu_img: qemuImg }, complete: qemu !== null && qemuImg !== null };
  },

  launch: launchQemu,
};
