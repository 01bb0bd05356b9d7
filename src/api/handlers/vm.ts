import type { z } from "zod";
import { networkInfo, type NetworkInfo } from "../../sandbox/network/info.js";
import {
  createVm as createSandboxVm,
  deleteVm as deleteSandboxVm,
  startVm as startSandboxVm,
  stopVm as stopSandboxVm,
} from "../../sandbox/vm/manager.js";
import { reapExpired as reapSandbox, type ReapReport } from "../../sandbox/reaper.js";
import { execInVm } from "../../sandbox/vm/exec.js";
import { runInVm, type RunOutcome } from "../../sandbox/vm/run.js";
import {
  listVms as listSandboxVms,
  statusVm as statusSandboxVm,
  vmInfo,
  type VmInfo,
} from "../../sandbox/vm/views.js";
import type { OperationContext } from "../types.js";
import type { VmExecOutcome, vmCreateInput, vmExecInput, vmIdInput, vmRunInput } from "../specs/vm.js";

type VmIdInput = z.output<typeof vmIdInput>;

const createOptions = (input: z.output<typeof vmCreateInput>) => ({
  environment: input.environment,
  vcpuCount: input.vcpu_count,
  memMib: input.mem_mib,
  ttlSeconds: input.ttl_seconds,
  networkPolicy: input.network ? ("egress" as const) : ("off" as const),
  allowPrivateEgress: input.allow_private_egress,
  allowHostCompat: input.allow_host_compat,
  backend: input.backend === "auto" ? undefined : input.backend,
});

export const runVm = (input: z.output<typeof vmRunInput>, context: OperationContext): Promise<RunOutcome> =>
  runInVm(
    context.store,
    { ...createOptions(input), onPhase: context.onPhase },
    {
      command: input.command,
      timeoutSeconds: input.timeout_seconds,
      ...(context.onStdout ? { onStdout: context.onStdout } : {}),
      ...(context.onStderr ? { onStderr: context.onStderr } : {}),
    },
  );

export const createVm = async (
  input: z.output<typeof vmCreateInput>,
  context: OperationContext,
): Promise<VmInfo> =>
  vmInfo(
    context.store,
    await createSandboxVm(context.store, { ...createOptions(input), onPhase: context.onPhase }),
  );

export const startVm = async (input: VmIdInput, context: OperationContext): Promise<VmInfo> =>
  vmInfo(context.store, await startSandboxVm(context.store, input.vm_id));

export const execVm = async (
  input: z.output<typeof vmExecInput>,
  context: OperationContext,
): Promise<VmExecOutcome> => {
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
    await deleteSandboxVm(context.store, input.vm_id);
  }
};

export const stopVm = async (input: VmIdInput, context: OperationContext): Promise<VmInfo> =>
  vmInfo(context.store, await stopSandboxVm(context.store, input.vm_id));

export const deleteVm = (
  input: VmIdInput,
  context: OperationContext,
): Promise<{ vm_id: string; deleted: boolean }> => deleteSandboxVm(context.store, input.vm_id);

export const statusVm = async (input: VmIdInput, context: OperationContext): Promise<VmInfo> =>
  statusSandboxVm(context.store, input.vm_id);

export const listVms = async (
  _input: unknown,
  context: OperationContext,
): Promise<{ vms: VmInfo[]; count: number }> => {
  const vms = listSandboxVms(context.store);
  return { vms, count: vms.length };
};

export const networkInfoVm = (input: VmIdInput, context: OperationContext): Promise<NetworkInfo> =>
  networkInfo(context.store, input.vm_id);

export const reapExpired = async (_input: unknown, context: OperationContext): Promise<ReapReport> =>
  reapSandbox(context.store);
