/** Builds QEMU's argv for one microVM. Pure: no I/O, so it is unit-tested directly. */

export const AGENT_PORT_NAME = "org.pyro.agent";
/** The workspace disk's block device name, as QMP commands address it. */
export const WORKSPACE_DRIVE = "workspace";

export interface QemuCommandLineInput {
  id: string;
  accel: "kvm" | "tcg";
  vcpuCount: number;
  memMib: number;
  kernel: string;
  initrd: string;
  overlay: string;
  /** The workspace's qcow2 image, the guest's second virtio-blk disk (/dev/vdb); null: none. */
  workspaceDisk: string | null;
  agentSocket: string;
  /** Drop to this user once QEMU has opened its files (only when pyro runs as root). */
  runAs: string | null;
  tscKhz: number | null;
  /** A network device on this inherited fd (a stream socket to the network helper), configured by the kernel arg. */
  network: { fd: number; kernelArg: string } | null;
}

const BASE_KERNEL_ARGS = [
  "console=ttyS0",
  "quiet",
  "panic=-1",
  "8250.nr_uarts=1",
  "pci=off",
  "i8042.noaux",
  "i8042.nomux",
  "i8042.nopnp",
  "i8042.dumbkbd",
  "tsc=reliable",
  "no_timer_check",
  "mitigations=off",
  "pyro.root=/dev/vda",
];

export function kernelCommandLine(input: Pick<QemuCommandLineInput, "accel" | "tscKhz" | "network">): string {
  const args = [...BASE_KERNEL_ARGS];
  if (input.network !== null) args.push(input.network.kernelArg);
  // Under emulation the guest must be told the TSC rate, or it may hang calibrating it.
  if (input.accel === "tcg" && input.tscKhz !== null) args.push(`tsc_early_khz=${input.tscKhz}`);
  return args.join(" ");
}

/**
 * QEMU's seccomp filter: no obsolete syscalls, no spawning, no scheduler/affinity changes, and no
 * set*id calls. QEMU 7.2 installs the filter before `-runas` changes user, so denying set*id
 * there kills QEMU at the drop (measured: SIGSYS with `deny` and with `children`); with `-runas`
 * those calls stay allowed, and after the drop (all uids and gids the unprivileged user's, no
 * capabilities, no_new_privs) they can no longer reach root.
 */
export function sandboxOption(runAs: string | null): string {
  const elevate = runAs === null ? "deny" : "allow";
  return `on,obsolete=deny,elevateprivileges=${elevate},spawn=deny,resourcecontrol=deny`;
}

export function qemuCommandLine(input: QemuCommandLineInput): string[] {
  const accel =
    input.accel === "kvm"
      ? ["-accel", "kvm", "-cpu", "host"]
      : // A 128 MiB translation cache keeps RSS near half of the 1 GiB default at no speed cost.
        ["-accel", "tcg,tb-size=128", "-cpu", "max"];
  return [
    "-name",
    `pyro-${input.id},process=pyro-${input.id}`,
    "-M",
    "microvm",
    ...accel,
    "-smp",
    String(input.vcpuCount),
    "-m",
    `${input.memMib}M`,
    "-nodefaults",
    "-no-user-config",
    "-nographic",
    "-no-reboot",
    "-kernel",
    input.kernel,
    "-initrd",
    input.initrd,
    "-append",
    kernelCommandLine(input),
    // The serial console goes to QEMU's stdout, a pipe the launcher drains into a capped log.
    "-chardev",
    "stdio,id=console,signal=off",
    "-serial",
    "chardev:console",
    "-drive",
    `id=root,file=${input.overlay},format=qcow2,if=none,discard=unmap`,
    "-device",
    "virtio-blk-device,drive=root",
    ...(input.workspaceDisk === null
      ? []
      : [
          "-drive",
          `id=${WORKSPACE_DRIVE},file=${input.workspaceDisk},format=qcow2,if=none,discard=unmap`,
          "-device",
          `virtio-blk-device,drive=${WORKSPACE_DRIVE}`,
        ]),
    "-device",
    "virtio-serial-device",
    "-chardev",
    `socket,id=agent,path=${input.agentSocket},server=on,wait=off`,
    "-device",
    `virtserialport,chardev=agent,name=${AGENT_PORT_NAME}`,
    // Free-page reporting hands memory the guest no longer uses back to the host.
    "-device",
    "virtio-balloon-device,free-page-reporting=on",
    "-sandbox",
    sandboxOption(input.runAs),
    ...(input.runAs === null ? [] : ["-runas", input.runAs]),
    ...(input.network === null
      ? []
      : [
          "-netdev",
          `stream,id=net0,addr.type=fd,addr.str=${input.network.fd}`,
          "-device",
          "virtio-net-device,netdev=net0",
        ]),
  ];
}
