import { findExecutable } from "../../platform/find-executable.js";

/** QEMU's system emulator (PYRO_QEMU_BIN overrides it); null when it is not installed. */
export function qemuBinary(): string | null {
  return findExecutable(process.env.PYRO_QEMU_BIN ?? "qemu-system-x86_64");
}

export function qemuImgBinary(): string | null {
  return findExecutable("qemu-img");
}
