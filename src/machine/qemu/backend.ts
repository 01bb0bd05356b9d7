import { execFile, spawn, type StdioOptions } from "node:child_process";
import { linkSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { PyroError } from "../../errors/index.js";
import { connectUnixWithRetry } from "../connect-unix.js";
import { findExecutable, requireExecutable } from "../../platform/find-executable.js";
import type { Readable } from "node:stream";
import { vmmUser } from "../../platform/vmm-user.js";
import type { Backend, LaunchSpec, LaunchedVmm } from "../types.js";
import { guestNetworkKernelArg } from "../network/guest-network.js";
import { qemuCommandLine } from "./command-line.js";
import { ConsoleLog } from "./console-log.js";
import { hostTscKhz } from "./host-tsc.js";
import { startNetworkHelper } from "./network-helper.js";

const run = promisify(execFile);
const NETWORK_FD = 3;

export function qemuBinary(): string | null {
  return findExecutable(process.env.PYRO_QEMU_BIN ?? "qemu-system-x86_64");
}

/** QEMU `-M microvm`: the agent on a virtio-serial port, the root disk as a per-VM qcow2 overlay. */
export const qemuBackend: Backend = {
  name: "qemu",
  executionMode: "guest_serial",

  async prepare(spec: LaunchSpec): Promise<void> {
    if (spec.boot === null) throw new PyroError("INTERNAL", "the qemu backend needs boot artifacts");
    const qemuImg = requireExecutable("qemu-img", "qemu-utils");
    // The overlay takes every write; the base image is only ever read. The base is a hard link
    // in the VM's own folder, so rebuilding or pruning the cached environment never changes
    // or removes the disk under an existing VM (a copy where the two are on different filesystems).
    const base = join(dirname(spec.files.overlay), "base.ext4");
    rmSync(base, { force: true });
    try {
      linkSync(spec.boot.rootfs, base);
    } catch {
      await run("cp", ["--sparse=always", "--reflink=auto", spec.boot.rootfs, base]);
    }
    await run(qemuImg, ["create", "-q", "-f", "qcow2", "-b", base, "-F", "raw", spec.files.overlay]);
  },

  async launch(spec: LaunchSpec): Promise<LaunchedVmm> {
    const binary = qemuBinary();
    if (binary === null) {
      throw new PyroError("BACKEND_UNAVAILABLE", "qemu-system-x86_64 is not installed", {
        hint: "apt-get install qemu-system-x86 qemu-utils",
      });
    }
    if (spec.boot === null || spec.accel === "none")
      throw new PyroError("INTERNAL", "qemu launch without boot artifacts");
    const helper = spec.network === null ? null : await startNetworkHelper(spec);
    const args = qemuCommandLine({
      id: spec.id,
      accel: spec.accel,
      vcpuCount: spec.vcpuCount,
      memMib: spec.memMib,
      kernel: spec.boot.kernel,
      initrd: spec.boot.initramfs,
      overlay: spec.files.overlay,
      agentSocket: spec.files.agentSocket,
      runAs: vmmUser()?.name ?? null,
      tscKhz: hostTscKhz(),
      network:
        spec.network === null ? null : { fd: NETWORK_FD, kernelArg: guestNetworkKernelArg(spec.network) },
    });
    const consoleLog = new ConsoleLog(spec.files.consoleLog);
    const stdio: StdioOptions = ["ignore", "pipe", "pipe"];
    if (helper !== null) stdio.push(helper.vmEnd);
    const child = spawn(binary, args, { stdio });
    consoleLog.follow(child.stdout as Readable, spec.consoleFilter);
    // Both children hold their ends now; the helper quits when QEMU's end closes.
    helper?.vmEnd.destroy();
    child.once("error", () => helper?.process.kill("SIGKILL"));
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      if (stderr.length < 8192) stderr += chunk.toString("utf8");
    });
    const exited = (): boolean => child.exitCode !== null || child.signalCode !== null;
    return {
      process: child,
      helpers: helper === null ? [] : [helper.process],
      diagnostics: () => [stderr.trim(), helper?.diagnostics() ?? ""].filter(Boolean).join("\n"),
      async connectAgent(deadlineMs: number) {
        try {
          return await connectUnixWithRetry(spec.files.agentSocket, deadlineMs, () => !exited());
        } catch (error) {
          throw new PyroError(
            "VM_BOOT_FAILED",
            `QEMU ${exited() ? "exited" : "did not open the agent socket"}: ${stderr.trim()}`,
            {
              cause: error,
              details: { console_log: spec.files.consoleLog },
            },
          );
        }
      },
    };
  },
};
