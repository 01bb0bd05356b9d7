import { createVm, deleteVm, startVm, type CreateVmOptions } from "./manager.js";
import { execInVm, type ExecOptions, type ExecOutcome } from "./exec.js";
import { silentPhases } from "../../platform/phases.js";
import type { VmRecord } from "./record.js";
import { startFacts, type VmInfo } from "./views.js";
import type { SandboxStore } from "../store.js";

export interface RunOutcome extends ExecOutcome {
  vm_id: string;
  environment: string;
  backend: VmRecord["backend"];
  accel: VmRecord["accel"];
  execution_mode: VmRecord["execution_mode"];
  guest_kernel_release: string | null;
  start_mode: VmInfo["start_mode"];
  cold_reason: string | null;
  start_timings: VmInfo["start_timings"];
  cleanup: { deleted: boolean; vm_id: string; reason: string };
}

/** One-shot: create → start → exec → delete. The VM never outlives this call or its process. */
export async function runInVm(
  store: SandboxStore,
  create: CreateVmOptions,
  exec: ExecOptions,
): Promise<RunOutcome> {
  const onPhase = create.onPhase ?? silentPhases;
  onPhase("create", { environment: create.environment });
  const created = await createVm(store, { ...create, ephemeral: true });
  try {
    onPhase("start", { vm_id: created.id });
    const started = await startVm(store, created.id);
    onPhase("execute", { vm_id: created.id });
    const outcome = await execInVm(store, created.id, exec);
    return {
      ...outcome,
      vm_id: created.id,
      environment: created.environment,
      backend: created.backend,
      accel: created.accel,
      execution_mode: created.execution_mode,
      guest_kernel_release: started.guest?.kernel_release ?? null,
      ...startFacts(started),
      cleanup: { deleted: true, vm_id: created.id, reason: "run finished" },
    };
  } finally {
    await deleteVm(store, created.id);
  }
}
