import { findExecutable } from "../../platform/find-executable.js";
import { CONSOLE_LOG_MAX_BYTES } from "./console-log.js";
import { probeQemuSandbox } from "./sandbox-probe.js";
import { DEDICATED_VMM_USER } from "../../platform/vmm-user.js";
import { GUARD_SHELL } from "../death-guard.js";
import type { MachineCheck } from "../types.js";

/** What confines QEMU on this host, as `pyro doctor` lines: each one measured, not assumed. */
export async function vmmHardeningChecks(qemu: string): Promise<MachineCheck[]> {
  const probe = await probeQemuSandbox(qemu);
  const sandbox: MachineCheck =
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
  const user: MachineCheck =
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
  // The guard that kills a VM with its supervisor is a /bin/sh: it must be there to run.
  const lifetime =
    findExecutable(GUARD_SHELL) !== null
      ? check(
          "PASS",
          "vmm lifetime",
          `a guard (${GUARD_SHELL}) kills QEMU and pyro-netstack at once if their supervisor dies by any signal; the console log is capped at ${CONSOLE_LOG_MAX_BYTES / 1024 / 1024} MiB, owner-only`,
        )
      : check(
          "FAIL",
          "vmm lifetime",
          `${GUARD_SHELL} is missing: a VM would outlive a supervisor that dies`,
          "Install dash (Debian's /bin/sh).",
        );
  return [sandbox, user, lifetime];
}

function check(
  status: MachineCheck["status"],
  name: string,
  detail: string,
  fix: string | null = null,
): MachineCheck {
  return { name, status, detail, fix };
}
