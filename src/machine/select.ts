import { qemuBinary } from "./qemu/backend.js";
import { PyroError } from "../errors/index.js";
import type { BackendName, ExecutionMode } from "../sandbox/vm-record.js";
import { kvmStatus, type BootArtifacts } from "./qemu/kvm-probe.js";

export interface BackendChoice {
  backend: BackendName;
  accel: "kvm" | "tcg" | "none";
  executionMode: ExecutionMode;
  /** Why this backend: shown by doctor and kept in debug output. */
  reason: string;
}

export interface SelectionInput {
  requested: string | undefined;
  allowHostCompat: boolean;
  artifacts: BootArtifacts | null;
  agentBinary: string | null;
  /** pyro's home, where the KVM probe's verdict is cached. */
  stateDir: string;
}

/**
 * firecracker > qemu+kvm > qemu+tcg, overridable by --backend / PYRO_BACKEND. Never falls back
 * to the unisolated host backend unless the user opted in.
 */
export async function selectBackend(input: SelectionInput): Promise<BackendChoice> {
  const requested = input.requested ?? process.env.PYRO_BACKEND ?? "auto";
  if (requested === "host") {
    if (!input.allowHostCompat) {
      throw new PyroError("INVALID_ARGUMENT", "the host backend runs commands without isolation", {
        hint: "Pass --allow-host-compat to accept that, or choose --backend qemu.",
      });
    }
    return { backend: "host", accel: "none", executionMode: "host_compat", reason: "requested" };
  }
  if (requested === "firecracker") {
    throw new PyroError("BACKEND_UNAVAILABLE", "the firecracker backend is not available in this version", {
      hint: "Use --backend qemu.",
    });
  }
  if (requested !== "auto" && requested !== "qemu") {
    throw new PyroError("INVALID_ARGUMENT", `unknown backend "${requested}"`, {
      hint: "Use auto, qemu or host.",
    });
  }
  if (qemuBinary() !== null) {
    const kvm = await kvmStatus({
      artifacts: input.artifacts,
      agentBinary: input.agentBinary,
      probe: true,
      stateDir: input.stateDir,
    });
    if (kvm.usable === true)
      return { backend: "qemu", accel: "kvm", executionMode: "guest_serial", reason: kvm.evidence };
    return {
      backend: "qemu",
      accel: "tcg",
      executionMode: "guest_serial",
      reason: `TCG emulation: ${kvm.evidence}`,
    };
  }
  if (requested === "auto" && input.allowHostCompat) {
    return {
      backend: "host",
      accel: "none",
      executionMode: "host_compat",
      reason: "no VMM installed; host compat allowed",
    };
  }
  throw new PyroError("BACKEND_UNAVAILABLE", "no guest can run here: qemu-system-x86_64 is not installed", {
    hint: "Install it (apt-get install qemu-system-x86 qemu-utils), or pass --allow-host-compat to run without isolation.",
  });
}
