import { rmSync } from "node:fs";
import { isProcessAlive } from "../platform/processes.js";
import type { SandboxStore } from "./store.js";
import { isSupervisorAlive, killOrphanVmm } from "./vm/liveness.js";

export interface ReapReport {
  reaped: Array<{ vm_id: string; reason: string; workspace: boolean }>;
  count: number;
}

type Reaped = ReapReport["reaped"][number];

/**
 * Deletes VMs past their TTL and one-shot VMs whose owner died, and kills any VMM left without its
 * supervisor. A workspace is never deleted for its TTL: that counts from activity, and its expiry
 * pauses or stops it (its supervisor does), so its data stays until it is deleted on request. Each sandbox is judged and removed under its
 * lock; one that is locked right now is being changed and is left for the next reap. Safe to run
 * from any process at any time.
 */
export async function reapExpired(store: SandboxStore, now = Date.now()): Promise<ReapReport> {
  const reaped: Reaped[] = [];
  for (const id of store.ids()) {
    const outcome = await store.withLockIfFree(id, async () => reapOne(store, id, now));
    if (outcome.ran && outcome.value !== null) reaped.push(outcome.value);
  }
  const abandoned = store.abandoned(now);
  for (const id of abandoned.ids) {
    await store.withLockIfFree(id, async () => {
      if (store.read(id) === null) store.remove(id);
    });
  }
  for (const path of abandoned.removing) rmSync(path, { recursive: true, force: true });
  return { reaped, count: reaped.length };
}

async function reapOne(store: SandboxStore, id: string, now: number): Promise<Reaped | null> {
  let record;
  try {
    record = store.read(id);
  } catch {
    return null; // a damaged record is reported by status, not deleted unseen
  }
  if (record === null) return null;
  const supervisorAlive = isSupervisorAlive(store, record);
  const expired = record.workspace === null && Date.parse(record.expires_at) <= now;
  const orphaned =
    record.ephemeral && !supervisorAlive && (record.owner_pid === null || !isProcessAlive(record.owner_pid));
  if (!expired && !orphaned) {
    killOrphanVmm(store, record);
    return null;
  }
  if (supervisorAlive && record.supervisor_pid !== null) process.kill(record.supervisor_pid, "SIGKILL");
  killOrphanVmm(store, { ...record, supervisor_pid: null });
  store.remove(id);
  return {
    vm_id: id,
    reason: expired ? "ttl_expired" : "owner_exited",
    workspace: record.workspace !== null,
  };
}
