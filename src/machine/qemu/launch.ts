import { spawn, type StdioOptions } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { PyroError } from "../../errors/index.js";
import { vmmUser } from "../../platform/vmm-user.js";
import { connectUnixWithRetry } from "../connect-unix.js";
import { attachByFd } from "../network/fd-attachment.js";
import { guestNetworkKernelArg } from "../network/guest-network.js";
import type { LaunchSpec, LaunchedVmm } from "../types.js";
import { qemuBinary } from "./binary.js";
import { qemuCommandLine, type QemuCommandLineInput } from "./command-line.js";
import { ConsoleLog } from "./console-log.js";
import { qcow2Overlay } from "./disk.js";
import { hostTscKhz } from "./host-tsc.js";
import { restoreSavedState } from "./memory-snapshot.js";
import { QmpClient } from "./qmp.js";
import { qemuControl } from "./vmm-control.js";

const NETWORK_FD = 3;
const QMP_CONNECT_MS = 10_000;

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
  const socketDir = dirname(spec.files.agentSocket);
  const qmpSocket = join(socketDir, "q.sock");
  const helper = spec.network === null ? null : await attachByFd(spec.network, socketDir);
  const stdio: StdioOptions = ["ignore", "pipe", "pipe"];
  if (helper !== null) stdio.push(helper.vmEnd);
  // A restore reads its saved state from an inherited fd (`migrate-incoming fd:N`): QEMU opens
  // nothing itself after dropping privileges, and QEMU closes the fd once it has read it.
  const stateFd = spec.restore === undefined ? null : openSync(spec.restore.stateFile, "r");
  const stateFdNumber = stdio.length;
  if (stateFd !== null) stdio.push(stateFd);
  const runAs = vmmUser();
  const input: QemuCommandLineInput = {
    id: spec.id,
    accel: spec.accel,
    vcpuCount: spec.vcpuCount,
    memMib: spec.memMib,
    kernel: spec.boot.kernel,
    initrd: spec.boot.initramfs,
    overlay,
    workspaceDisk: spec.workspaceDisk,
    agentSocket: spec.files.agentSocket,
    qmpSocket,
    memory: guestMemory(spec),
    incoming: spec.restore !== undefined,
    runAs: runAs?.name ?? null,
    tscKhz: hostTscKhz(),
    network:
      spec.network === null ? null : { fd: NETWORK_FD, kernelArg: guestNetworkKernelArg(spec.network) },
  };
  const consoleLog = new ConsoleLog(spec.files.consoleLog);
  const child = spawn(binary, qemuCommandLine(input), { stdio });
  consoleLog.follow(child.stdout as Readable, spec.consoleFilter);
  // Both children hold their ends now; the helper quits when QEMU's end closes.
  helper?.vmEnd.destroy();
  if (stateFd !== null) closeSync(stateFd);
  child.once("error", () => helper?.process.kill("SIGKILL"));
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    if (stderr.length < 8192) stderr += chunk.toString("utf8");
  });
  const exited = (): boolean => child.exitCode !== null || child.signalCode !== null;
  // One QMP connection for the VM's life (QEMU serves one client at a time), made when first needed.
  let qmp: Promise<QmpClient> | null = null;
  const control = (): Promise<QmpClient> => {
    qmp ??= QmpClient.connect(qmpSocket, Date.now() + QMP_CONNECT_MS, () => !exited());
    return qmp;
  };
  child.once("exit", () => void qmp?.then((client) => client.close()).catch(() => undefined));
  const failure = (what: string, error: unknown): PyroError =>
    new PyroError("VM_BOOT_FAILED", `QEMU ${exited() ? "exited" : what}: ${stderr.trim()}`, {
      cause: error,
      details: { console_log: spec.files.consoleLog },
    });
  return {
    process: child,
    helpers: helper === null ? [] : [helper.process],
    diagnostics: () => [stderr.trim(), helper?.diagnostics() ?? ""].filter(Boolean).join("\n"),
    control: qemuControl({
      qmp: control,
      sharedRamFile: spec.ramFile !== undefined,
      vmmUid: runAs?.uid ?? null,
      memMib: spec.memMib,
    }),
    async connectAgent(deadlineMs: number) {
      let stream;
      try {
        stream = await connectUnixWithRetry(spec.files.agentSocket, deadlineMs, () => !exited());
      } catch (error) {
        throw failure("did not open the agent socket", error);
      }
      if (spec.restore === undefined) return stream;
      // Restore only once the agent's port is connected, so the guest never sees it closed.
      try {
        await restoreSavedState(await control(), {
          uri: `fd:${stateFdNumber}`,
          ignoreSharedRam: spec.restore.kind === "template",
          deadlineMs,
        });
      } catch (error) {
        stream.destroy();
        throw failure("could not restore the saved state", error);
      }
      return stream;
    },
  };
}

function guestMemory(spec: LaunchSpec): QemuCommandLineInput["memory"] {
  if (spec.restore?.kind === "template") return { kind: "file", path: spec.restore.ramFile, shared: false };
  if (spec.ramFile !== undefined) return { kind: "file", path: spec.ramFile, shared: true };
  return { kind: "anonymous" };
}
