import { accessSync, constants, existsSync } from "node:fs";
import type { KvmStatus } from "./types.js";

export const KVM_DEVICE = "/dev/kvm";

function access(path: string, mode: number): boolean {
  try {
    accessSync(path, mode);
    return true;
  } catch {
    return false;
  }
}

/** What the device alone says. A present device proves little: only a boot shows KVM is usable. */
export function kvmDeviceStatus(): KvmStatus {
  const base = {
    device: KVM_DEVICE,
    exists: existsSync(KVM_DEVICE),
    readable: access(KVM_DEVICE, constants.R_OK),
    writable: access(KVM_DEVICE, constants.W_OK),
  };
  const evidence = !base.exists
    ? "/dev/kvm does not exist"
    : !base.readable || !base.writable
      ? "/dev/kvm is not readable and writable by this user"
      : "not probed yet (run `pyro doctor`)";
  const usable = !base.exists || !base.readable || !base.writable ? false : null;
  return { ...base, usable, evidence, probed_at: null, cached: false };
}
