import { PyroError } from "../../errors/index.js";
import { isOwnProcess } from "../../platform/processes.js";
import { isSandboxId } from "../record-parse.js";
import type { SandboxStore } from "../store.js";
import type { VmRecord } from "./record.js";

/**
 * Reading a VM's record and judging whether its processes live: all that listing, status and
 * reaping need, without the machine drivers and environment code that creating and starting load.
 */

/** Loads a VM's record (a plain VM's or a workspace's) or fails with VM_NOT_FOUND. */
export function loadVm(store: SandboxStore, id: string): VmRecord {
  if (!isSandboxId(id)) {
    throw new PyroError("VM_NOT_FOUND", `no VM with id "${id}"`, {
      hint: "VM ids are 12 lowercase hex digits; run `pyro vm list`.",
    });
  }
  const record = store.read(id);
  if (record === null) throw new PyroError("VM_NOT_FOUND", `no VM with id ${id}`);
  return record;
}

/** The VM folder handed to the supervisor. */
export const machineDir = (store: SandboxStore, id: string): string => store.files(id).machine;

export function isSupervisorAlive(store: SandboxStore, record: VmRecord): boolean {
  return isOwnProcess(record.supervisor_pid, machineDir(store, record.id));
}

/** A VMM whose supervisor died is nobody's: kill it. */
export function killOrphanVmm(store: SandboxStore, record: VmRecord): boolean {
  if (
    record.vmm_pid !== null &&
    isOwnProcess(record.vmm_pid, record.id) &&
    !isSupervisorAlive(store, record)
  ) {
    process.kill(record.vmm_pid, "SIGKILL");
    return true;
  }
  return false;
}
