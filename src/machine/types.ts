import type { ChildProcess } from "node:child_process";
import type { Duplex } from "node:stream";
import type { GuestNetwork } from "./network/guest-network.js";

/** Everything a backend needs to start one VM. Backends never read or write pyro's state files. */
export interface LaunchSpec {
  id: string;
  vcpuCount: number;
  memMib: number;
  /** Absolute paths of the environment's boot artifacts (null for the host backend). */
  boot: { kernel: string; initramfs: string; rootfs: string } | null;
  agentBinary: string;
  /** Per-VM files the backend may create. */
  files: { agentSocket: string; consoleLog: string; overlay: string; scratch: string };
  accel: "kvm" | "tcg" | "none";
  /** The guest's network interface; null gives it loopback only. */
  network: GuestNetwork | null;
  /** Applied to the serial console before it is stored (secret masking); in-process only. */
  consoleFilter?: ConsoleFilter;
}

/** A streaming byte transform: push chunks in order, flush once at the end. */
export interface ConsoleFilter {
  push(chunk: Buffer): Buffer;
  flush(): Buffer;
}

export interface LaunchedVmm {
  process: ChildProcess;
  /** Helper processes serving this VM (the network helper); they must not outlive it. */
  helpers: ChildProcess[];
  /** Opens the byte stream to the agent (retrying until the VMM offers it or the deadline passes). */
  connectAgent(deadlineMs: number): Promise<Duplex>;
  /** What the VMM said on stderr (bounded), for error messages. */
  diagnostics(): string;
}

export interface Backend {
  readonly name: "qemu" | "firecracker" | "host";
  readonly executionMode: "guest_serial" | "guest_vsock" | "host_compat";
  /** Creates per-VM files (disk overlay, scratch dir); called once per VM, not per boot. */
  prepare(spec: LaunchSpec): Promise<void>;
  launch(spec: LaunchSpec): Promise<LaunchedVmm>;
}
