import { createHash } from "node:crypto";
import { statSync } from "node:fs";
import { basename } from "node:path";
import type { Accel, BootArtifacts } from "../../machine/types.js";

/** What a template is made for: a VM of this environment and shape restores from it. */
export interface TemplateShape {
  environment: string;
  vcpuCount: number;
  memMib: number;
  /** The guest has a network device (any policy but off). */
  network: boolean;
}

export interface TemplateIdentity {
  /** Digest of everything the saved memory depends on: a change in any of them is a new template. */
  key: string;
  /** The template's folder name: readable, and unique per key. */
  dirName: string;
}

/**
 * A template is valid only for the exact kernel, initrd (with the agent in it), root image,
 * driver, acceleration, vCPUs, memory, network device and workspace-disk size it was saved with:
 * the key covers them all, so a rebuilt environment or agent never restores stale memory.
 */
export function templateIdentity(
  shape: TemplateShape,
  machine: { driver: string; accel: Accel; boot: BootArtifacts; workspaceDiskBytes: number },
): TemplateIdentity {
  const key = createHash("sha256")
    .update(
      JSON.stringify({
        v: 1,
        environment: shape.environment,
        vcpu: shape.vcpuCount,
        mem: shape.memMib,
        network: shape.network,
        driver: machine.driver,
        accel: machine.accel,
        kernel: machine.boot.kernelDigest,
        initrd: basename(machine.boot.initramfs),
        rootfs: rootfsStamp(machine.boot.rootfs),
        disk: machine.workspaceDiskBytes,
      }),
    )
    .digest("hex");
  const env = shape.environment.replace(/[^a-z0-9.]+/gi, "-");
  const net = shape.network ? "net" : "nonet";
  return { key, dirName: `${env}-${shape.vcpuCount}c${shape.memMib}m-${net}-${key.slice(0, 12)}` };
}

/** The root image's path, size and change time: a rebuilt environment changes it. */
export function rootfsStamp(rootfs: string): string {
  try {
    const stat = statSync(rootfs);
    return `${rootfs}:${stat.size}:${Math.trunc(stat.mtimeMs)}`;
  } catch {
    return `${rootfs}:missing`;
  }
}
