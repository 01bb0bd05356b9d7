import { COMMAND_TIMEOUT_MS, ignoreSharedRam, migrationCompleted, runIfStopped } from "./migration.js";
import type { QmpClient } from "./qmp.js";

/**
 * Loads a saved state into a QEMU started with `-incoming defer` and runs it: RAM and devices
 * from the stream, or (template) devices only, RAM being the template's file mapped copy-on-write.
 */
export async function restoreSavedState(
  qmp: QmpClient,
  options: { uri: string; ignoreSharedRam: boolean; deadlineMs: number },
): Promise<void> {
  if (options.ignoreSharedRam) await ignoreSharedRam(qmp, true);
  await qmp.execute("migrate-incoming", { uri: options.uri }, COMMAND_TIMEOUT_MS);
  await migrationCompleted(qmp, Math.max(1_000, options.deadlineMs - Date.now()));
  await runIfStopped(qmp);
}
