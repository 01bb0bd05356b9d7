import { networkInfo, renderNetworkInfo } from "../sandbox/network/info.js";
import { z } from "zod";
import { createVm, deleteVm, startVm, stopVm } from "../sandbox/vm-manager.js";
import { execInVm, type ExecOutcome } from "../sandbox/vm-exec.js";
import { runInVm, type RunOutcome } from "../sandbox/vm-run.js";
import { listVms, statusVm, vmInfo, type VmInfo } from "../sandbox/vm-views.js";
import { reapExpired, type ReapReport } from "../sandbox/reaper.js";
import {
  allowHostCompatParam,
  allowPrivateEgressParam,
  commandParam,
  environmentParam,
  memMibParam,
  networkParam,
  timeoutSecondsParam,
  ttlSecondsParam,
  vcpuCountParam,
  vmIdParam,
} from "./limits.js";
import { defineOperation } from "./types.js";
import { printableLine } from "./terminal-text.js";

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

const createOptions = (input: {
  environment: string;
  vcpu_count: number;
  mem_mib: number;
  ttl_seconds: number;
  network: boolean;
  allow_private_egress: boolean;
  allow_host_compat: boolean;
  backend?: string | undefined;
}) => ({
  environment: input.environment,
  vcpuCount: input.vcpu_count,
  memMib: input.mem_mib,
  ttlSeconds: input.ttl_seconds,
  networkPolicy: input.network ? ("egress" as const) : ("off" as const),
  allowPrivateEgress: input.allow_private_egress,
  allowHostCompat: input.allow_host_compat,
  backend: input.backend === "auto" ? undefined : input.backend,
});

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

export interface VmExecOutcome extends ExecOutcome {
  vm_id: string;
  cleanup: { deleted: boolean; vm_id: string; reason: string };
}

export const vmRun = defineOperation({
  name: "vm_run",
  sdkMethod: "runInVm",
  cli: ["run"],
  description:
    "Run one command in a fresh, disposable Linux microVM and return its output and exit code. The VM is created, started, used once and deleted.",
  input: z.object({ ...vmShape, command: commandParam, timeout_seconds: timeoutSecondsParam }),
  profiles: ["vm-run", "workspace-core", "workspace-full"],
  handler: (input, context): Promise<RunOutcome> =>
    runInVm(
      context.store,
      { ...createOptions(input), onPhase: context.onPhase },
      {
        command: input.command,
        timeoutSeconds: input.timeout_seconds,
        ...(context.onStdout ? { onStdout: context.onStdout } : {}),
        ...(context.onStderr ? { onStderr: context.onStderr } : {}),
      },
    ),
  render: (outcome) =>
    `${renderExec(outcome)}\n[environment=${outcome.environment} execution_mode=${outcome.execution_mode} backend=${outcome.backend} accel=${outcome.accel}]`,
});

export const vmCreate = defineOperation({
  name: "vm_create",
  sdkMethod: "createVm",
  cli: ["vm", "create"],
  description:
    "Create a VM (disk prepared, not yet booted). Start it with vm_start; it expires after ttl_seconds.",
  input: z.object(vmShape),
  profiles: ["workspace-full"],
  handler: async (input, context): Promise<VmInfo> =>
    vmInfo(
      context.store,
      await createVm(context.store, { ...createOptions(input), onPhase: context.onPhase }),
    ),
  render: renderVmInfo,
});

export const vmStart = defineOperation({
  name: "vm_start",
  sdkMethod: "startVm",
  cli: ["vm", "start"],
  description: "Boot a created or stopped VM and wait until its guest agent answers.",
  input: z.object({ vm_id: vmIdParam }),
  profiles: ["workspace-full"],
  handler: async (input, context): Promise<VmInfo> =>
    vmInfo(context.store, await startVm(context.store, input.vm_id)),
  render: renderVmInfo,
});

export const vmExec = defineOperation({
  name: "vm_exec",
  sdkMethod: "execVm",
  cli: ["vm", "exec"],
  description: "Run one command in a started VM, then delete the VM (one command per VM).",
  input: z.object({ vm_id: vmIdParam, command: commandParam, timeout_seconds: timeoutSecondsParam }),
  profiles: ["workspace-full"],
  handler: async (input, context): Promise<VmExecOutcome> => {
    try {
      const outcome = await execInVm(context.store, input.vm_id, {
        command: input.command,
        timeoutSeconds: input.timeout_seconds,
        ...(context.onStdout ? { onStdout: context.onStdout } : {}),
        ...(context.onStderr ? { onStderr: context.onStderr } : {}),
      });
      return {
        ...outcome,
        vm_id: input.vm_id,
        cleanup: { deleted: true, vm_id: input.vm_id, reason: "vm_exec cleans up" },
      };
    } finally {
      await deleteVm(context.store, input.vm_id);
    }
  },
  render: (outcome: VmExecOutcome) => renderExec(outcome),
});

export const vmStop = defineOperation({
  name: "vm_stop",
  sdkMethod: "stopVm",
  cli: ["vm", "stop"],
  description: "Stop a VM: the guest syncs and powers off; its record stays until vm_delete.",
  input: z.object({ vm_id: vmIdParam }),
  profiles: ["workspace-full"],
  handler: async (input, context): Promise<VmInfo> =>
    vmInfo(context.store, await stopVm(context.store, input.vm_id)),
  render: renderVmInfo,
});

export const vmDelete = defineOperation({
  name: "vm_delete",
  sdkMethod: "deleteVm",
  cli: ["vm", "delete"],
  description: "Stop a VM if it runs and delete everything it had.",
  input: z.object({ vm_id: vmIdParam }),
  profiles: ["workspace-full"],
  handler: (input, context) => deleteVm(context.store, input.vm_id),
  render: (output) => `deleted VM ${output.vm_id}`,
});

export const vmStatus = defineOperation({
  name: "vm_status",
  sdkMethod: "statusVm",
  cli: ["vm", "status"],
  description: "Show a VM's state, backend, resources, TTL and guest kernel.",
  input: z.object({ vm_id: vmIdParam }),
  profiles: ["workspace-full"],
  handler: async (input, context): Promise<VmInfo> => statusVm(context.store, input.vm_id),
  render: renderVmInfo,
});

export const vmList = defineOperation({
  name: "vm_list",
  sdkMethod: "listVms",
  cli: ["vm", "list"],
  description: "List all VMs with their state, newest first.",
  input: z.object({}),
  profiles: ["workspace-full"],
  handler: async (_input, context): Promise<{ vms: VmInfo[]; count: number }> => {
    const vms = listVms(context.store);
    return { vms, count: vms.length };
  },
  render: (output) =>
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
  cli: ["vm", "network-info"],
  description: "Show a VM's network policy, guest address and published ports.",
  input: z.object({ vm_id: vmIdParam }),
  profiles: ["workspace-full"],
  handler: (input, context) => networkInfo(context.store, input.vm_id),
  render: renderNetworkInfo,
});

export const vmReapExpired = defineOperation({
  name: "vm_reap_expired",
  sdkMethod: "reapExpired",
  cli: ["vm", "reap-expired"],
  description: "Delete VMs past their TTL and one-shot VMs whose owner died; kill orphaned VM processes.",
  input: z.object({}),
  profiles: ["workspace-full"],
  handler: async (_input, context): Promise<ReapReport> => reapExpired(context.store),
  render: (output) =>
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
];
