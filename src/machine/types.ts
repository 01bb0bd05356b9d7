import type { ChildProcess } from "node:child_process";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { GuestNetwork } from "./network/guest-network.js";

export type Accel = "kvm" | "tcg" | "none";
export type ExecutionMode = "guest_serial" | "guest_vsock" | "host_compat";

/** Everything a driver needs to start one VM. Drivers never read or write pyro's state files. */
export interface LaunchSpec {
  id: string;
  vcpuCount: number;
  memMib: number;
  /** Absolute paths of the environment's boot artifacts (null for a driver that boots no guest). */
  boot: { kernel: string; initramfs: string; rootfs: string } | null;
  agentBinary: string;
  /** The VM's own folder: its disk lives here, in the driver's format (MachineDisk). */
  dir: string;
  /** Per-VM files the supervisor also knows. */
  files: { agentSocket: string; consoleLog: string };
  accel: Accel;
  /** The guest's network interface; null gives it loopback only. */
  network: GuestNetwork | null;
  /** The workspace's own disk image (qcow2), attached as the guest's second block device /dev/vdb; null: none. */
  workspaceDisk: string | null;
  /** Guest RAM lives in this file, mapped shared: a memory template being made writes its RAM here. */
  ramFile?: string;
  /** Restore instead of booting. template: RAM mapped copy-on-write from the template's RAM file
   *  plus its device state; full: RAM and devices from one saved stream (pause/fork). */
  restore?: { kind: "template"; ramFile: string; stateFile: string } | { kind: "full"; stateFile: string };
  /** Applied to the serial console before it is stored (secret masking); in-process only. */
  consoleFilter?: ConsoleFilter;
}

/** A streaming byte transform: push chunks in order, flush once at the end. */
export interface ConsoleFilter {
  push(chunk: Buffer): Buffer;
  flush(): Buffer;
}

/** A running VM as launch() hands it over: the way to its agent, and the processes to stop. */
export interface LaunchedVmm {
  process: ChildProcess;
  /** Helper processes serving this VM (the network helper); they must not outlive it. */
  helpers: ChildProcess[];
  /** Opens the byte stream to the agent (retrying until the VMM offers it or the deadline passes). */
  connectAgent(deadlineMs: number): Promise<Duplex>;
  /** What the VMM said on stderr (bounded), for error messages. */
  diagnostics(): string;
  /** Present when capabilities.memorySnapshot. */
  control: VmmControl | null;
}

/** Live control of a running VMM: memory state and workspace-disk snapshots. */
export interface VmmControl {
  /** Stops the vCPUs and writes device state (and RAM, unless RAM is a shared file) to `file`
   *  (created 0600, complete when this resolves). The VM stays stopped. */
  saveState(file: string): Promise<{ bytes: number; ms: number }>;
  /** Runs a stopped VM again (after saveState, for a fork's source). */
  resume(): Promise<void>;
  /** Internal copy-on-write snapshot of the workspace disk, O(1); the caller froze the guest fs. */
  snapshotWorkspaceDisk(name: string): Promise<void>;
  deleteWorkspaceDiskSnapshot(name: string): Promise<void>;
}

/** The environment files a guest boots from (kernelDigest keys cached probe verdicts). */
export interface BootArtifacts {
  kernel: string;
  initramfs: string;
  rootfs: string;
  kernelDigest: string;
}

/** What a probe may use. Boot artifacts are resolved only if a probe needs to boot something. */
export interface ProbeContext {
  artifacts(): Promise<BootArtifacts | null>;
  agentBinary: string | null;
  /** Whether an expensive measurement (a test boot) may run now when no cached verdict fits. */
  measure: boolean;
  /** pyro's home: where costly verdicts (the KVM test boot) are cached and probe VMs made. */
  stateDir: string;
}

/** Whether KVM can run pyro's guest here, with the evidence (doctor shows it as is). */
export interface KvmStatus {
  device: string;
  exists: boolean;
  readable: boolean;
  writable: boolean;
  /** null: not probed yet (no environment to boot, or probing not asked for). */
  usable: boolean | null;
  evidence: string;
  probed_at: string | null;
  cached: boolean;
}

/** A driver's availability on this host, as its probe measured it. Selection ranks these. */
export interface DriverProbe {
  name: string;
  available: boolean;
  /** The guest runs in its own VM (false: commands run on the host itself). */
  isolated: boolean;
  /** The best acceleration the driver gets here. */
  accel: Accel;
  evidence: string;
  /** How to make an unavailable driver available (null when it is). */
  fix: string | null;
  /** What the probe learned about KVM, when it looked. */
  kvm: KvmStatus | null;
}

/** One line of `pyro doctor`; a FAIL or WARN always names its fix. */
export interface MachineCheck {
  name: string;
  status: "PASS" | "FAIL" | "WARN";
  detail: string;
  fix: string | null;
}

/** What a driver tells doctor: its tool and hardening lines, its tools' paths, whether all are there. */
export interface DriverReport {
  checks: MachineCheck[];
  tools: Record<string, string | null>;
  complete: boolean;
}

/** A read-only image a VM's root disk is layered over: an environment's raw rootfs or a saved qcow2 disk. */
export interface DiskBase {
  path: string;
  format: "raw" | "qcow2";
}

/**
 * The root disk of a VM, in the driver's format: a copy-on-write image over the environment's
 * read-only root image, or, for a driver that boots no guest, plain folders.
 */
export interface MachineDisk {
  readonly kind: "qcow2-overlay" | "directory";
  /** Creates the disk in the VM's folder over `base` (read, never written); called once per VM, not per boot. */
  create(dir: string, base: DiskBase | null): Promise<void>;
  /** Copies a stopped disk from one VM folder to another (bases shared, the writable part copied). */
  copy(fromDir: string, toDir: string): Promise<void>;
  /** The image file the guest writes, or null when there is no block image. */
  imageFile(dir: string): string | null;
  /** Writes the (stopped) disk as a sparse raw ext4 image at `output`; nothing is left there on failure. */
  flatten(dir: string, output: string): Promise<void>;
}

/** A guest network end served by pyro-netstack over an inherited socket. */
export interface FdAttachment {
  process: ChildProcess;
  /** The socket end the VMM inherits as its network backend. */
  vmEnd: Socket;
  diagnostics(): string;
}

/**
 * How the guest's network device reaches pyro-netstack. "fd": a stream socket the VMM inherits
 * (QEMU). A tap device joins when a driver needs one; "none": the driver gives no guest network.
 */
export type MachineNetwork =
  | { readonly kind: "none" }
  | { readonly kind: "fd"; attach(plan: GuestNetwork, socketDir: string): Promise<FdAttachment> };

/** What a driver can do beyond booting. */
export interface MachineCapabilities {
  /** Memory templates and pause/fork (LaunchSpec.ramFile/restore, LaunchedVmm.control). */
  memorySnapshot: boolean;
  pause: boolean;
  /** O(1) internal snapshots of the workspace disk (VmmControl.snapshotWorkspaceDisk). */
  diskSnapshot: boolean;
}

/** One internal snapshot of a workspace image, as its snapshot table lists it. */
export interface WorkspaceDiskSnapshot {
  name: string;
  createdAt: string;
}

/**
 * A workspace's own disk (/workspace) as an image file: made on the host, snapshotted and reverted
 * in place in O(1) of its size. Every method works on a stopped image (the VM holds a running
 * one's lock; a live snapshot goes through VmmControl with the name's `tag`), except listing.
 */
export interface WorkspaceImageFormat {
  /** The guest device the image appears as (the VM's second disk). */
  readonly device: string;
  /** The snapshot tag stored in the image for a snapshot name (what a live snapshot passes the VMM). */
  tag(name: string): string;
  /**
   * Creates `image` (and its base beside it): an empty ext4 file system, or one holding `seedTree`.
   * With `owner`, the root folder and every seeded entry belong to that user (no host privilege
   * needed); without, the root is root's and the entries keep their owners on the host.
   */
  create(
    image: string,
    options: {
      virtualBytes: number;
      seedTree: string | null;
      cacheDir: string;
      owner?: { uid: number; gid: number } | null;
    },
  ): Promise<void>;
  /** Copies a stopped image to `to` (snapshots included), with the base it reads beside it. */
  copy(image: string, to: string): Promise<void>;
  snapshot(image: string, name: string): Promise<void>;
  revert(image: string, name: string): Promise<void>;
  deleteSnapshot(image: string, name: string): Promise<void>;
  /** Works on a running image too (read under a shared lock). */
  listSnapshots(image: string): Promise<WorkspaceDiskSnapshot[]>;
  /** Writes the stopped image as a sparse raw ext4 file at `output`; nothing is left there on failure. */
  flatten(image: string, output: string): Promise<void>;
}

/** One execution backend. Only machine/registry.ts names the drivers. */
export interface MachineDriver {
  readonly name: string;
  readonly executionMode: ExecutionMode;
  readonly disk: MachineDisk;
  readonly network: MachineNetwork;
  readonly capabilities: MachineCapabilities;
  /** The format of a workspace's own disk; null: /workspace stays a folder of the root disk. */
  readonly workspaceImage: WorkspaceImageFormat | null;
  probe(context: ProbeContext): Promise<DriverProbe>;
  report(): Promise<DriverReport>;
  launch(spec: LaunchSpec): Promise<LaunchedVmm>;
}
