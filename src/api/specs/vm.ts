import { z } from "zod";
import type { NetworkInfo } from "../../sandbox/network/info.js";
import type { ExecOutcome } from "../../sandbox/vm/exec.js";
import type { RunOutcome } from "../../sandbox/vm/run.js";
import type { VmInfo } from "../../sandbox/vm/views.js";
import type { ReapReport } from "../../sandbox/reaper.js";
import {
  allowHostCompatParam,
  allowPrivateEgressParam,
  commandParam,
  environmentParam,
  memMibParam,
  networkParam,
  runCommandParam,
  timeoutSecondsParam,
  ttlSecondsParam,
  vcpuCountParam,
  vmIdParam,
} from "../limits.js";
import { defineOperation } from "../types.js";
import { printableLine } from "../terminal-text.js";

const backendParam = z
  .enum(["auto", "qemu", "firecracker", "host"])
  .optional()
  .describe(
    "Execution backend; default auto (firecracker > qemu with KVM > qemu with TCG). 'host' needs allow_host_compat.",
  );

const vmShape = {
  environment: environmentParam,
  vcpu_count: vcpuCountParam,
  mem_mib: memMibParam,
  ttl_seconds: ttlSecondsParam,
  network: networkParam,
  allow_private_egress: allowPrivateEgressParam,
  allow_host_compat: allowHostCompatParam,
  backend: backendParam,
};

export const vmRunInput = z.object({
  ...vmShape,
  command: runCommandParam,
  timeout_seconds: timeoutSecondsParam,
});
export const vmCreateInput = z.object(vmShape);
export const vmIdInput = z.object({ vm_id: vmIdParam });
export const vmExecInput = z.object({
  vm_id: vmIdParam,
  command: commandParam,
  timeout_seconds: timeoutSecondsParam,
});
export const noInput = z.object({});

const handlers = () => import("../handlers/vm.js");

export function renderVmInfo(info: VmInfo): string {
  const lines = [
    `VM ${info.vm_id}`,
    `  environment     ${info.environment}`,
    `  state           ${info.state}${info.ended ? ` (${info.ended})` : ""}`,
    `  backend         ${info.backend} (accel ${info.accel}, execution_mode ${info.execution_mode})`,
    `  resources       ${info.vcpu_count} vCPU, ${info.mem_mib} MiB`,
    `  network         ${info.network_policy}${info.allow_private_egress ? " (private ranges allowed)" : ""}`,
    `  created         ${info.created_at}`,
    `  expires         ${info.expires_at} (ttl ${info.ttl_seconds}s)`,
  ];
  if (info.guest_kernel_release) lines.push(`  guest kernel    ${printableLine(info.guest_kernel_release)}`);
  if (info.last_error) lines.push(`  last error      ${info.last_error.code}: ${info.last_error.message}`);
  return lines.join("\n");
}

function renderExec(outcome: ExecOutcome): string {
  const parts = [outcome.stdout, outcome.stderr ? `[stderr]\n${outcome.stderr}` : ""].filter(
    (part) => part !== "",
  );
  const status = outcome.timed_out
    ? `timed out after ${outcome.duration_ms} ms (killed)`
    : `exit_code=${outcome.exit_code} duration_ms=${outcome.duration_ms}`;
  return [...parts, `[${status}]`].join("\n");
}

export function renderNetworkInfo(info: NetworkInfo): string {
  const lines = [
    `VM ${info.vm_id}: network policy ${info.policy}`,
    `  interfaces      ${info.interfaces.join(", ")}`,
  ];
  if (info.network_enabled) {
    lines.push(
      `  private ranges  ${info.allow_private_egress ? "reachable (--allow-private-egress)" : "refused"}`,
    );
  }
  if (info.guest_ip !== null) {
    lines.push(
      `  guest address   ${info.guest_ip}/${info.prefix_length} via ${info.gateway} (mtu ${info.mtu})`,
    );
    lines.push(`  dns             ${info.dns ?? "none"}`);
    lines.push(`  carried by      ${info.helper}`);
  }
  lines.push(
    info.published_ports.length === 0
      ? "  published ports none"
      : `  published ports ${info.published_ports.map((p) => `${p.host_address}:${p.host_port} -> ${p.guest_port}${p.service ? ` (${p.service})` : ""}`).join(", ")}`,
  );
  return lines.join("\n");
}

export interface VmExecOutcome extends ExecOutcome {
  vm_id: string;
  cleanup: { deleted: boolean; vm_id: string; reason: string };
}

export const vmRun = defineOperation({
  name: "vm_run",
  sdkMethod: "runInVm",
  cli: {
    example: "pyro run debian:12 --mem-mib 2048 --timeout-seconds 60 -- bash -c 'git --version && nproc'",
    words: ["run"],
    positionals: ["environment", "command"],
    scope: "run",
  },
  description:
    "Run one command in a fresh, disposable Linux microVM and return its output and exit code. The VM is created, started, used once and deleted. Without a command, an environment imported from a container image runs the image's Entrypoint + Cmd.",
  input: vmRunInput,
  profiles: ["vm-run", "workspace-core", "workspace-full"],
  loadHandler: async () => (await handlers()).runVm,
  render: (outcome: RunOutcome) =>
    `${renderExec(outcome)}\n[environment=${outcome.environment} execution_mode=${outcome.execution_mode} backend=${outcome.backend} accel=${outcome.accel}]`,
});

export const vmCreate = defineOperation({
  name: "vm_create",
  sdkMethod: "createVm",
  cli: {
    example: "VM=$(pyro vm create debian:12 --mem-mib 2048 --json | jq -r .vm_id)",
    words: ["vm", "create"],
    positionals: ["environment"],
  },
  description:
    "Create a VM (disk prepared, not yet booted). Start it with vm_start; it expires after ttl_seconds.",
  input: vmCreateInput,
  profiles: ["workspace-full"],
  loadHandler: async () => (await handlers()).createVm,
  render: renderVmInfo,
});

export const vmStart = defineOperation({
  name: "vm_start",
  sdkMethod: "startVm",
  cli: { example: "pyro vm start $VM", words: ["vm", "start"], positionals: ["vm_id"] },
  description: "Boot a created or stopped VM and wait until its guest agent answers.",
  input: vmIdInput,
  profiles: ["workspace-full"],
  loadHandler: async () => (await handlers()).startVm,
  render: renderVmInfo,
});

export const vmExec = defineOperation({
  name: "vm_exec",
  sdkMethod: "execVm",
  cli: {
    example: "pyro vm exec $VM -- uname -a   # one command, then the VM is deleted",
    words: ["vm", "exec"],
    positionals: ["vm_id", "command"],
  },
  description: "Run one command in a started VM, then delete the VM (one command per VM).",
  input: vmExecInput,
  profiles: ["workspace-full"],
  loadHandler: async () => (await handlers()).execVm,
  render: (outcome: VmExecOutcome) => renderExec(outcome),
});

export const vmStop = defineOperation({
  name: "vm_stop",
  sdkMethod: "stopVm",
  cli: { example: "pyro vm stop $VM", words: ["vm", "stop"], positionals: ["vm_id"] },
  description: "Stop a VM: the guest syncs and powers off; its record stays until vm_delete.",
  input: vmIdInput,
  profiles: ["workspace-full"],
  loadHandler: async () => (await handlers()).stopVm,
  render: renderVmInfo,
});

export const vmDelete = defineOperation({
  name: "vm_delete",
  sdkMethod: "deleteVm",
  cli: { example: "pyro vm delete $VM", words: ["vm", "delete"], positionals: ["vm_id"] },
  description: "Stop a VM if it runs and delete everything it had.",
  input: vmIdInput,
  profiles: ["workspace-full"],
  loadHandler: async () => (await handlers()).deleteVm,
  render: (output) => `deleted VM ${output.vm_id}`,
});

export const vmStatus = defineOperation({
  name: "vm_status",
  sdkMethod: "statusVm",
  cli: { example: "pyro vm status $VM --json", words: ["vm", "status"], positionals: ["vm_id"] },
  description: "Show a VM's state, backend, resources, TTL and guest kernel.",
  input: vmIdInput,
  profiles: ["workspace-full"],
  loadHandler: async () => (await handlers()).statusVm,
  render: renderVmInfo,
});

export const vmList = defineOperation({
  name: "vm_list",
  sdkMethod: "listVms",
  cli: { example: "pyro vm list", words: ["vm", "list"] },
  description: "List all VMs with their state, newest first.",
  input: noInput,
  profiles: ["workspace-full"],
  loadHandler: async () => (await handlers()).listVms,
  render: (output: { vms: VmInfo[]; count: number }) =>
    output.count === 0
      ? "no VMs"
      : output.vms
          .map(
            (vm) =>
              `${vm.vm_id}  ${vm.state.padEnd(8)} ${vm.environment}  ${vm.backend}/${vm.accel}  expires ${vm.expires_at}`,
          )
          .join("\n"),
});

export const vmNetworkInfo = defineOperation({
  name: "vm_network_info",
  sdkMethod: "networkInfoVm",
  cli: { example: "pyro vm network-info $VM", words: ["vm", "network-info"], positionals: ["vm_id"] },
  description: "Show a VM's network policy, guest address and published ports.",
  input: vmIdInput,
  profiles: ["workspace-full"],
  loadHandler: async () => (await handlers()).networkInfoVm,
  render: renderNetworkInfo,
});

export const vmReapExpired = defineOperation({
  name: "vm_reap_expired",
  sdkMethod: "reapExpired",
  cli: { example: "pyro vm reap-expired --json", words: ["vm", "reap-expired"], scope: "vm-reap" },
  description: "Delete VMs past their TTL and one-shot VMs whose owner died; kill orphaned VM processes.",
  input: noInput,
  profiles: ["workspace-full"],
  loadHandler: async () => (await handlers()).reapExpired,
  render: (output: ReapReport) =>
    output.count === 0
      ? "nothing to reap"
      : output.reaped.map((vm) => `reaped ${vm.vm_id} (${vm.reason})`).join("\n"),
});

export const VM_OPERATIONS = [
  vmRun,
  vmCreate,
  vmStart,
  vmExec,
  vmStop,
  vmDelete,
  vmStatus,
  vmList,
  vmNetworkInfo,
  vmReapExpired,
] as const;
