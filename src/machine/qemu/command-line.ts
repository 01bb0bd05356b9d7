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
  /** The VM's own QMP monitor socket (bound before QEMU drops privileges). */
  qmpSocket: string;
  /** Where guest RAM lives: anonymous memory, or a file mapped shared (a template being made) or
   *  copy-on-write (a VM restored from a template's RAM file). */
  memory: { kind: "anonymous" } | { kind: "file"; path: string; shared: boolean };
  /** Wait for the saved state on `migrate-incoming` instead of booting. */
  incoming: boolean;
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

/**
 * A qcow2 drive QEMU opens before it drops privileges. auto-read-only=off keeps its one read-write
 * fd: otherwise a save (which inactivates the images) reopens them read-only by path, which the
 * unprivileged user may not, and the migration fails in bdrv_inactivate_all.
 */
function drive(id: string, file: string): string {
  return `id=${id},file=${file},format=qcow2,if=none,discard=unmap,auto-read-only=off`;
}

/**
 * Guest RAM is always the backend `ram`: a saved stream names its RAM block, so a VM restored
 * from a template (a file) can be saved whole and restored into anonymous memory, and back.
 */
function memoryBackend(input: QemuCommandLineInput): string {
  const size = `size=${input.memMib}M`;
  if (input.memory.kind === "anonymous") return `memory-backend-ram,id=ram,${size}`;
  const share = input.memory.shared ? "on" : "off";
  return `memory-backend-file,id=ram,mem-path=${input.memory.path},${size},share=${share}`;
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
    "microvm,memory-backend=ram",
    "-object",
    memoryBackend(input),
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
    drive("root", input.overlay),
    "-device",
    "virtio-blk-device,drive=root",
    ...(input.workspaceDisk === null
      ? []
      : [
          "-drive",
          drive(WORKSPACE_DRIVE, input.workspaceDisk),
          "-device",
          `virtio-blk-device,drive=${WORKSPACE_DRIVE}`,
        ]),
    "-device",
    "virtio-serial-device",
    "-chardev",
    `socket,id=agent,path=${input.agentSocket},server=on,wait=off`,
    "-device",
    `virtserialport,chardev=agent,name=${AGENT_PORT_NAME}`,
    // No balloon: in QEMU 7.2 a balloon discard (free-page reporting, or an inflate the guest
    // may send unasked) punches holes in a file-backed RAM block even when it is mapped
    // privately, which would let a guest erase a memory template shared by other VMs. Every VM
    // has the same devices so that any saved state restores into any launch.
    "-qmp",
    `unix:${input.qmpSocket},server=on,wait=off`,
    ...(input.incoming ? ["-incoming", "defer"] : []),
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
