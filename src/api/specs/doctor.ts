import type { DoctorReport } from "../../doctor/doctor.js";
import { verdictLine } from "../../doctor/verdict.js";
import { defineOperation, NO_INPUT } from "../types.js";

function renderDoctor(report: DoctorReport): string {
  const lines = [
    verdictLine(report),
    `platform: ${report.platform.os} ${report.platform.arch}, kernel ${report.platform.kernel}, node ${report.platform.node}, ${report.platform.cpus} CPUs, ${report.platform.memory_mib} MiB`,
  ];
  for (const check of report.checks) {
    lines.push(`${check.status.padEnd(4)} ${check.name}: ${check.detail}`);
    if (check.status !== "PASS" && check.fix) lines.push(`     fix: ${check.fix}`);
  }
  lines.push(`backend: ${report.backends.selected}`);
  const caps = report.capabilities;
  lines.push(
    `capabilities: vm_boot=${caps.vm_boot} guest_exec=${caps.guest_exec} guest_network=${caps.guest_network}`,
  );
  lines.push(
    `networking: policies ${report.networking.policies.join(", ")} (${report.networking.reason}); tun=${report.networking.tun} ip_forward=${report.networking.ip_forward}`,
  );
  lines.push(`state: ${report.state_dir}; reaped ${report.reaped.count} dead VM(s)`);
  const { probe } = report;
  lines.push(
    probe.cached
      ? `host probe: cached ${probe.age_seconds} s ago (measured again when the kernel, a binary or /dev/kvm changes, or after a day)`
      : "host probe: measured now",
  );
  return lines.join("\n");
}

export const doctorOperation = defineOperation({
  name: "doctor",
  sdkMethod: "doctor",
  cli: { example: "pyro doctor", words: ["doctor"] },
  description:
    "Check this host: platform, KVM (probed by booting), backends, environment cache, capabilities, networking.",
  input: NO_INPUT,
  profiles: ["workspace-full"],
  loadHandler: async () => (await import("../handlers/doctor.js")).doctor,
  render: renderDoctor,
});
