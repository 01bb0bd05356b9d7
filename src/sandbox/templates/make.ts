import { chmodSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { sha256File } from "../../platform/file-digest.js";
import { PyroError } from "../../errors/index.js";
import type { GuestNetwork } from "../../machine/network/guest-network.js";
import type { Accel, BootArtifacts, LaunchSpec, MachineDriver } from "../../machine/types.js";
import { writeJsonAtomic } from "../../platform/atomic-file.js";
import { launchDirect } from "./direct-vm.js";
import { rootfsStamp, type TemplateIdentity, type TemplateShape } from "./key.js";
import { TEMPLATE_SCHEMA, templateFiles, type TemplateFiles, type TemplateRecord } from "./files.js";

/** The machine a template is made on, as selection chose it for the sandbox that needs one. */
export interface TemplateMachine {
  driver: MachineDriver;
  accel: Exclude<Accel, "none">;
  boot: BootArtifacts;
  agentBinary: string;
  /** The guest network every VM of this shape gets (null: none). */
  network: GuestNetwork | null;
  bootTimeoutMs: number;
}

/** Empty workspace disks of one virtual size: the template's guest sees one as its second disk. */
export interface WorkspaceDiskImages {
  bytes: number;
  blank(file: string): Promise<void>;
}

const QUIESCE_TIMEOUT_MS = 10_000;
const READ_ONLY = 0o444;

function launchSpec(
  id: string,
  dir: string,
  shape: TemplateShape,
  machine: TemplateMachine,
  workspaceDisk: string,
): LaunchSpec {
  return {
    id,
    vcpuCount: shape.vcpuCount,
    memMib: shape.memMib,
    boot: { kernel: machine.boot.kernel, initramfs: machine.boot.initramfs, rootfs: machine.boot.rootfs },
    agentBinary: machine.agentBinary,
    dir,
    files: { agentSocket: join(dir, "a.sock"), consoleLog: join(dir, "console.log") },
    accel: machine.accel,
    network: machine.network,
    workspaceDisk,
  };
}

function bootTimeout(machine: TemplateMachine): () => Error {
  return () =>
    new PyroError("VM_BOOT_TIMEOUT", `the guest agent did not answer within ${machine.bootTimeoutMs} ms`);
}

/**
 * Boots a VM of `shape`, waits for its agent, quiesces it and saves it: RAM stays in its file, the
 * device state and root disk beside it, all read-only from then on. The template is checked by
 * restoring it once before it is published (renamed into place); nothing half-made is left.
 */
export async function makeTemplate(
  root: string,
  identity: TemplateIdentity,
  shape: TemplateShape,
  machine: TemplateMachine,
  disks: WorkspaceDiskImages,
): Promise<TemplateRecord> {
  const staging = join(root, `.make-${identity.key.slice(0, 8)}-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true, mode: 0o700 });
  try {
    const files = templateFiles(staging);
    const id = `tpl-${identity.key.slice(0, 8)}`;
    const started = Date.now();
    await machine.driver.disk.create(staging, { path: machine.boot.rootfs, format: "raw" });
    await disks.blank(files.placeholder);
    const spec = { ...launchSpec(id, staging, shape, machine, files.placeholder), ramFile: files.ram };
    const vm = await launchDirect(
      machine.driver,
      spec,
      join(staging, "exit.json"),
      started + machine.bootTimeoutMs,
    );
    let saved: { bytes: number; ms: number };
    try {
      await vm.agent.hello({
        client: "pyro-template",
        hostTimeMs: Date.now(),
        timeoutMs: Math.max(0, started + machine.bootTimeoutMs - Date.now()),
        timeoutError: bootTimeout(machine),
      });
      const control = vm.vmm.control;
      if (control === null) throw new PyroError("INTERNAL", `${machine.driver.name} cannot save memory`);
      await vm.agent.quiesce(QUIESCE_TIMEOUT_MS);
      saved = await control.saveState(files.state);
    } finally {
      vm.end();
    }
    const bootMs = Date.now() - started - saved.ms;
    const disk = machine.driver.disk.imageFile(staging);
    if (disk === null) throw new PyroError("INTERNAL", "a template needs a block root disk");
    renameSync(disk, files.root);
    for (const file of [files.ram, files.state, files.root, files.placeholder]) chmodSync(file, READ_ONLY);
    const verifyMs = await verifyTemplate(files, shape, machine, disks);
    const record: TemplateRecord = {
      schema: TEMPLATE_SCHEMA,
      key: identity.key,
      environment: shape.environment,
      vcpu_count: shape.vcpuCount,
      mem_mib: shape.memMib,
      network: shape.network,
      driver: machine.driver.name,
      accel: machine.accel,
      workspace_disk_bytes: disks.bytes,
      kernel_digest: machine.boot.kernelDigest,
      rootfs: machine.boot.rootfs,
      rootfs_stamp: rootfsStamp(machine.boot.rootfs),
      initramfs: machine.boot.initramfs,
      created_at: new Date().toISOString(),
      boot_ms: bootMs,
      save_ms: saved.ms,
      verify_ms: verifyMs,
      ram_bytes: statSync(files.ram).size,
      state_bytes: saved.bytes,
      state_sha256: await sha256File(files.state),
      root_sha256: await sha256File(files.root),
    };
    rmSync(join(staging, "exit.json"), { force: true });
    rmSync(join(staging, "console.log"), { force: true });
    writeJsonAtomic(files.record, record);
    const final = join(root, identity.dirName);
    rmSync(final, { recursive: true, force: true });
    renameSync(staging, final);
    return record;
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
}

/** Restores the template once, as a sandbox would, and waits for its agent; returns how long that took. */
async function verifyTemplate(
  files: TemplateFiles,
  shape: TemplateShape,
  machine: TemplateMachine,
  disks: WorkspaceDiskImages,
): Promise<number> {
  const dir = join(files.dir, "verify");
  mkdirSync(dir, { mode: 0o700 });
  const started = Date.now();
  try {
    await machine.driver.disk.create(dir, { path: files.root, format: "qcow2" });
    const workspaceDisk = join(dir, "workspace.qcow2");
    await disks.blank(workspaceDisk);
    const spec: LaunchSpec = {
      ...launchSpec("tpl-verify", dir, shape, machine, workspaceDisk),
      restore: { kind: "template", ramFile: files.ram, stateFile: files.state },
    };
    const vm = await launchDirect(
      machine.driver,
      spec,
      join(dir, "exit.json"),
      started + machine.bootTimeoutMs,
    );
    try {
      await vm.agent.hello({
        client: "pyro-template",
        hostTimeMs: Date.now(),
        resume: true,
        timeoutMs: machine.bootTimeoutMs,
        timeoutError: bootTimeout(machine),
      });
    } finally {
      vm.end();
    }
    return Date.now() - started;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
