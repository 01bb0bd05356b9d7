import { createVm, deleteVm, startVm, type CreateVmOptions } from "./manager.js";
import { execInVm, type ExecOptions, type ExecOutcome } from "./exec.js";
import { defaultCommandOf } from "./image-command.js";
import { PyroError } from "../../errors/index.js";
import { silentPhases } from "../../platform/phases.js";
import type { VmRecord } from "./record.js";
import { startFacts, type VmInfo } from "./views.js";
import type { SandboxStore } from "../store.js";

export interface RunOutcome extends ExecOutcome {
  vm_id: string;
  /** What ran: the command given, or the image's Entrypoint + Cmd when none was. */
  command: string | string[];
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

/** A run's command is optional: without one, the environment's image Entrypoint + Cmd run. */
export type RunExecOptions = Omit<ExecOptions, "command"> & { command?: ExecOptions["command"] | undefined };

/** One-shot: create → start → exec → delete. The VM never outlives this call or its process. */
export async function runInVm(
  store: SandboxStore,
  create: CreateVmOptions,
  exec: RunExecOptions,
): Promise<RunOutcome> {
  const onPhase = create.onPhase ?? silentPhases;
  const command = exec.command ?? (await defaultCommandOf(create.environment));
  onPhase("create", { environment: create.environment });
  const created = await createVm(store, { ...create, ephemeral: true });
  try {
    if (exec.command === undefined && created.boot === null) {
      // The image's programs live in its root image, which a host-mode run does not use.
      throw new PyroError(
        "INVALID_ARGUMENT",
        `no command given: ${create.environment}'s image Entrypoint and Cmd run only in a guest, not on the host`,
        { hint: "Give the command after `--`, or run where a microVM can boot (`pyro doctor`)." },
      );
    }
    onPhase("start", { vm_id: created.id });
    const started = await startVm(store, created.id);
    onPhase("execute", { vm_id: created.id });
    const outcome = await execInVm(store, created.id, { ...exec, command });
    return {
      ...outcome,
      vm_id: created.id,
      command,
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
