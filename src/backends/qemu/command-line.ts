/** Builds QEMU's argv for one microVM. Pure: no I/O, so it is unit-tested directly. */

export const AGENT_PORT_NAME = "org.pyro.agent";

export interface QemuCommandLineInput {
  id: string;
  accel: "kvm" | "tcg";
  vcpuCount: number;
  memMib: number;
  kernel: string;
  initrd: string;
  overlay: string;
  agentSocket: string;
  consoleLog: string;
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
    "-chardev",
    `file,id=console,path=${input.consoleLog}`,
    "-serial",
    "chardev:console",
    "-drive",
    `id=root,file=${input.overlay},format=qcow2,if=none,discard=unmap`,
    "-device",
    "virtio-blk-device,drive=root",
    "-device",
    "virtio-serial-device",
    "-chardev",
    `socket,id=agent,path=${input.agentSocket},server=on,wait=off`,
    "-device",
    `virtserialport,chardev=agent,name=${AGENT_PORT_NAME}`,
    // Free-page reporting hands memory the guest no longer uses back to the host.
    "-device",
    "virtio-balloon-device,free-page-reporting=on",
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
