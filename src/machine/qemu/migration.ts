import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { PyroError } from "../../errors/index.js";
import type { QmpClient } from "./qmp.js";

const MigrationInfo = z.object({ status: z.string().optional(), "error-desc": z.string().optional() });
const StatusInfo = z.object({ running: z.boolean(), status: z.string() });

const COMMAND_TIMEOUT_MS = 10_000;

/** Polls `query-migrate` (either side) until the migration completed; rejects when it failed. */
export async function migrationCompleted(qmp: QmpClient, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = MigrationInfo.parse(await qmp.execute("query-migrate", {}, COMMAND_TIMEOUT_MS));
    if (info.status === "completed") return;
    if (info.status === "failed" || info.status === "cancelled") {
      throw new PyroError("EXEC_FAILED", `QEMU migration ${info.status}: ${info["error-desc"] ?? ""}`);
    }
    if (Date.now() > deadline)
      throw new PyroError("EXEC_FAILED", `QEMU migration not done after ${timeoutMs} ms`);
    await sleep(5);
  }
}

/**
 * Whether RAM that lives in a shared file is left out of the stream (the file is the RAM). QEMU
 * documents x-ignore-shared as experimental; both sides must agree, and a VM restored from a
 * template has it on from its restore, so every save sets it explicitly.
 */
export async function ignoreSharedRam(qmp: QmpClient, on: boolean): Promise<void> {
  await qmp.execute(
    "migrate-set-capabilities",
    { capabilities: [{ capability: "x-ignore-shared", state: on }] },
    COMMAND_TIMEOUT_MS,
  );
}

/** Runs the vCPUs when they are stopped (a saved VM restores stopped). */
export async function runIfStopped(qmp: QmpClient): Promise<void> {
  const status = StatusInfo.parse(await qmp.execute("query-status", {}, COMMAND_TIMEOUT_MS));
  if (!status.running) await qmp.execute("cont", {}, COMMAND_TIMEOUT_MS);
}

export { COMMAND_TIMEOUT_MS };
