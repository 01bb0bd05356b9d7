import { describe, expect, it } from "vitest";
import { kernelCommandLine, qemuCommandLine, sandboxOption } from "../../src/machine/qemu/command-line.js";
import { hostTscKhz } from "../../src/machine/qemu/host-tsc.js";
import { vmmUser } from "../../src/platform/vmm-user.js";

const input = {
  id: "abc123",
  accel: "tcg" as const,
  vcpuCount: 2,
  memMib: 512,
  kernel: "/cache/vmlinux",
  initrd: "/home/initrd.cpio",
  overlay: "/vm/disk.qcow2",
  workspaceDisk: null,
  agentSocket: "/vm/a.sock",
  qmpSocket: "/vm/q.sock",
  memory: { kind: "anonymous" as const },
  incoming: false,
  runAs: null,
  tscKhz: 2596128,
  network: null,
};

const valueAfter = (args: string[], flag: string): string[] =>
  args.flatMap((arg, index) => (arg === flag ? [args[index + 1] as string] : []));

describe("QEMU command line", () => {
  it("boots a microvm from kernel and initrd with the root on a qcow2 overlay", () => {
    const args = qemuCommandLine(input);
    expect(valueAfter(args, "-M")).toEqual(["microvm,memory-backend=ram"]);
    expect(valueAfter(args, "-kernel")).toEqual(["/cache/vmlinux"]);
    expect(valueAfter(args, "-initrd")).toEqual(["/home/initrd.cpio"]);
    expect(valueAfter(args, "-drive")[0]).toContain("file=/vm/disk.qcow2,format=qcow2");
    expect(valueAfter(args, "-smp")).toEqual(["2"]);
    expect(valueAfter(args, "-m")).toEqual(["512M"]);
  });

  it("attaches the workspace image as the second virtio-blk disk, only when there is one", () => {
    const none = qemuCommandLine(input);
    expect(valueAfter(none, "-drive")).toHaveLength(1);
    const args = qemuCommandLine({ ...input, workspaceDisk: "/ws/workspace.qcow2" });
    expect(valueAfter(args, "-drive")).toEqual([
      "id=root,file=/vm/disk.qcow2,format=qcow2,if=none,discard=unmap,auto-read-only=off",
      "id=workspace,file=/ws/workspace.qcow2,format=qcow2,if=none,discard=unmap,auto-read-only=off",
    ]);
    const disks = valueAfter(args, "-device").filter((device) => device.startsWith("virtio-blk-device"));
    expect(disks).toEqual(["virtio-blk-device,drive=root", "virtio-blk-device,drive=workspace"]);
  });

  it("has a QMP socket of its own and no balloon that could discard RAM in a template file", () => {
    const args = qemuCommandLine(input);
    expect(valueAfter(args, "-qmp")).toEqual(["unix:/vm/q.sock,server=on,wait=off"]);
    expect(args.join(" ")).not.toContain("balloon");
    expect(valueAfter(args, "-object")).toEqual(["memory-backend-ram,id=ram,size=512M"]);
    expect(valueAfter(args, "-incoming")).toEqual([]);
  });

  it("maps guest RAM from a file, shared for a template being made and copy-on-write for a restore", () => {
    const made = qemuCommandLine({ ...input, memory: { kind: "file", path: "/t/ram", shared: true } });
    expect(valueAfter(made, "-M")).toEqual(["microvm,memory-backend=ram"]);
    expect(valueAfter(made, "-object")).toEqual([
      "memory-backend-file,id=ram,mem-path=/t/ram,size=512M,share=on",
    ]);
    const restored = qemuCommandLine({
      ...input,
      memory: { kind: "file", path: "/t/ram", shared: false },
      incoming: true,
    });
    expect(valueAfter(restored, "-object")).toEqual([
      "memory-backend-file,id=ram,mem-path=/t/ram,size=512M,share=off",
    ]);
    expect(valueAfter(restored, "-incoming")).toEqual(["defer"]);
    // The seccomp filter stays on for memory snapshots (they never need exec: URIs).
    expect(valueAfter(restored, "-sandbox")[0]).toContain("spawn=deny");
  });

  it("puts the agent on a named virtio-serial port bound to the VM's own socket", () => {
    const args = qemuCommandLine(input);
    expect(valueAfter(args, "-chardev")).toContain("socket,id=agent,path=/vm/a.sock,server=on,wait=off");
    expect(valueAfter(args, "-device")).toContain("virtserialport,chardev=agent,name=org.pyro.agent");
  });

  it("sends the serial console to stdout, never straight to a file QEMU would let grow", () => {
    const args = qemuCommandLine(input);
    expect(valueAfter(args, "-chardev")).toContain("stdio,id=console,signal=off");
    expect(valueAfter(args, "-serial")).toEqual(["chardev:console"]);
    expect(args.join(" ")).not.toMatch(/chardev file|file,id=console/);
  });

  it("always runs QEMU under its seccomp sandbox with spawning, obsolete and resource calls denied", () => {
    for (const runAs of [null, "pyro-vmm"]) {
      const sandbox = valueAfter(qemuCommandLine({ ...input, runAs }), "-sandbox");
      expect(sandbox).toHaveLength(1);
      expect((sandbox[0] as string).split(",")).toEqual(
        expect.arrayContaining(["on", "obsolete=deny", "spawn=deny", "resourcecontrol=deny"]),
      );
    }
  });

  it("denies set*id calls without -runas, and drops to the given user with it", () => {
    const plain = qemuCommandLine(input);
    expect(valueAfter(plain, "-sandbox")[0]).toContain("elevateprivileges=deny");
    expect(valueAfter(plain, "-runas")).toEqual([]);
    const dropped = qemuCommandLine({ ...input, runAs: "pyro-vmm" });
    expect(valueAfter(dropped, "-runas")).toEqual(["pyro-vmm"]);
    // QEMU 7.2 filters before -runas: denying set*id there kills it at the drop.
    expect(sandboxOption("pyro-vmm")).toContain("elevateprivileges=allow");
  });

  it("picks a dedicated user, else nobody, only when running as root", () => {
    const passwd = "root:x:0:0::/root:/bin/sh\nnobody:x:65534:65534::/:/usr/sbin/nologin\n";
    expect(vmmUser(1000, passwd)).toBeNull();
    expect(vmmUser(0, passwd)).toEqual({ name: "nobody", uid: 65534 });
    expect(vmmUser(0, `${passwd}pyro-vmm:x:998:998::/:/usr/sbin/nologin\n`)).toEqual({
      name: "pyro-vmm",
      uid: 998,
    });
    expect(vmmUser(0, "root:x:0:0::/root:/bin/sh\n")).toBeNull();
  });

  it("caps the TCG translation cache and pins the TSC rate under TCG", () => {
    const args = qemuCommandLine(input);
    expect(valueAfter(args, "-accel")).toEqual(["tcg,tb-size=128"]);
    expect(valueAfter(args, "-append")[0]).toContain("tsc_early_khz=2596128");
  });

  it("uses KVM with the host CPU and no TSC override when KVM was proven usable", () => {
    const args = qemuCommandLine({ ...input, accel: "kvm" });
    expect(valueAfter(args, "-accel")).toEqual(["kvm"]);
    expect(valueAfter(args, "-cpu")).toEqual(["host"]);
    expect(kernelCommandLine({ accel: "kvm", tscKhz: 2596128, network: null })).not.toContain(
      "tsc_early_khz",
    );
  });

  it("has no network device with policy off, and a virtio-net on the helper's fd otherwise", () => {
    expect(valueAfter(qemuCommandLine(input), "-netdev")).toEqual([]);
    const args = qemuCommandLine({ ...input, network: { fd: 3, kernelArg: "pyro.net=x" } });
    expect(valueAfter(args, "-netdev")).toEqual(["stream,id=net0,addr.type=fd,addr.str=3"]);
    expect(valueAfter(args, "-device")).toContain("virtio-net-device,netdev=net0");
    expect(valueAfter(args, "-append")[0]).toMatch(/ pyro\.net=x( |$)/);
  });

  it("reads the host TSC rate from cpuinfo", () => {
    expect(hostTscKhz("processor\t: 0\ncpu MHz\t\t: 2596.128\n")).toBe(2596128);
    expect(hostTscKhz("no such line")).toBeNull();
  });
});
