import { CONSOLE_LOG_MAX_BYTES } from "../backends/qemu/console-log.js";
import { probeQemuSandbox } from "../backends/qemu/sandbox-probe.js";
import { DEDICATED_VMM_USER } from "../platform/vmm-user.js";
import type { DoctorCheck } from "./doctor.js";

/** What confines QEMU on this host, as `pyro doctor` lines: each one measured, not assumed. */
export async function vmmHardeningChecks(): Promise<DoctorCheck[]> {
  const probe = await probeQemuSandbox();
  const sandbox: DoctorCheck =
    probe.error === null
      ? check(
          "PASS",
          "vmm sandbox",
          `QEMU runs under seccomp (-sandbox ${probe.option}; Seccomp: ${probe.seccomp})`,
        )
      : check(
          "FAIL",
          "vmm sandbox",
          `QEMU with -sandbox ${probe.option} did not run: ${probe.error}`,
          "Install Debian's qemu-system-x86 (built with seccomp).",
        );
  const user: DoctorCheck =
    process.geteuid?.() !== 0
      ? check(
          "PASS",
          "vmm user",
          `pyro is not root: QEMU runs as uid ${process.geteuid?.()}, without privileges`,
        )
      : probe.runAs === null
        ? check(
            "WARN",
            "vmm user",
            "pyro runs as root and no unprivileged user was found: QEMU keeps root",
            `Create one: useradd --system --no-create-home ${DEDICATED_VMM_USER}`,
          )
        : probe.error === null
          ? check(
              "PASS",
              "vmm user",
              `QEMU drops from root to ${probe.runAs} (uid ${probe.uid}) after opening its files`,
            )
          : check(
              "FAIL",
              "vmm user",
              `QEMU -runas ${probe.runAs} could not be verified`,
              "See the vmm sandbox line.",
            );
  const lifetime = check(
    "PASS",
    "vmm lifetime",
    `a guard kills QEMU and pyro-netstack at once if their supervisor dies by any signal; the console log is capped at ${CONSOLE_LOG_MAX_BYTES / 1024 / 1024} MiB, owner-only`,
  );
  return [sandbox, user, lifetime];
}

function check(
  status: DoctorCheck["status"],
  name: string,
  detail: string,
  fix: string | null = null,
): DoctorCheck {
  return { name, status, detail, fix };
}
