import { spawn, type StdioOptions } from "node:child_process";
import { dirname } from "node:path";
import type { Readable } from "node:stream";
import { PyroError } from "../../errors/index.js";
import { vmmUser } from "../../platform/vmm-user.js";
import { connectUnixWithRetry } from "../connect-unix.js";
import { attachByFd } from "../network/fd-attachment.js";
import { guestNetworkKernelArg } from "../network/guest-network.js";
import type { LaunchSpec, LaunchedVmm } from "../types.js";
import { qemuBinary } from "./binary.js";
import { qemuCommandLine } from "./command-line.js";
import { ConsoleLog } from "./console-log.js";
import { qcow2Overlay } from "./disk.js";
import { hostTscKhz } from "./host-tsc.js";

const NETWORK_FD = 3;

/** QEMU `-M microvm`: the agent on a virtio-serial port, the root disk the VM's qcow2 overlay. */
export async function launchQemu(spec: LaunchSpec): Promise<LaunchedVmm> {
  const binary = qemuBinary();
  if (binary === null) {
    throw new PyroError("BACKEND_UNAVAILABLE", "qemu-system-x86_64 is not installed", {
      hint: "apt-get install qemu-system-x86 qemu-utils",
    });
  }
  const overlay = qcow2Overlay.imageFile(spec.dir);
  if (spec.boot === null || spec.accel === "none" || overlay === null)
    throw new PyroError("INTERNAL", "qemu launch without boot artifacts");
  const helper =
    spec.network === null ? null : await attachByFd(spec.network, dirname(spec.files.agentSocket));
  const args = qemuCommandLine({
    id: spec.id,
    accel: spec.accel,
    vcpuCount: spec.vcpuCount,
    memMib: spec.memMib,
    kernel: spec.boot.kernel,
    initrd: spec.boot.initramfs,
    overlay,
    workspaceDisk: spec.workspaceDisk,
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
    control: null,
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
}
