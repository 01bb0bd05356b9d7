import type { VmmControl } from "../types.js";
import { WORKSPACE_DRIVE } from "./command-line.js";
import { COMMAND_TIMEOUT_MS, ignoreSharedRam, migrationCompleted, runIfStopped } from "./migration.js";
import { openMigrationSink } from "./migration-sink.js";
import type { QmpClient } from "./qmp.js";

/** Far above any disk's speed: QEMU's default (32 MiB/s) would make a save take seconds. */
const SAVE_BANDWIDTH = 64 * 1024 ** 3;
const SAVE_TIMEOUT_MS = 120_000;
/** Device state and stream framing on top of RAM (measured: ~63 KB of device state). */
const STATE_SLACK = 64 * 1024 * 1024;

export interface QemuControlOptions {
  qmp(): Promise<QmpClient>;
  /** Guest RAM is a shared file (a template being made): the stream then holds device state only. */
  sharedRamFile: boolean;
  vmmUid: number | null;
  /** Guest RAM size: bounds the saved stream (RAM plus device state). */
  memMib: number;
}

/** VmmControl over QMP: stop + migrate to a file, cont, and internal qcow2 snapshots of the workspace drive. */
export function qemuControl(options: QemuControlOptions): VmmControl {
  return {
    async saveState(file) {
      const qmp = await options.qmp();
      const started = Date.now();
      await qmp.execute("stop", {}, COMMAND_TIMEOUT_MS);
      await qmp.execute("migrate-set-parameters", { "max-bandwidth": SAVE_BANDWIDTH }, COMMAND_TIMEOUT_MS);
      await ignoreSharedRam(qmp, options.sharedRamFile);
      const sink = await openMigrationSink(file, options.vmmUid, options.memMib * 1024 * 1024 + STATE_SLACK);
      let complete = false;
      try {
        await qmp.execute("migrate", { uri: sink.uri }, COMMAND_TIMEOUT_MS);
        await migrationCompleted(qmp, SAVE_TIMEOUT_MS);
        const bytes = await sink.written;
        complete = true;
        return { bytes, ms: Date.now() - started };
      } finally {
        sink.close(complete);
      }
    },
    async resume() {
      await runIfStopped(await options.qmp());
    },
    async snapshotWorkspaceDisk(name) {
      const qmp = await options.qmp();
      await qmp.execute(
        "blockdev-snapshot-internal-sync",
        { device: WORKSPACE_DRIVE, name },
        COMMAND_TIMEOUT_MS,
      );
    },
    async deleteWorkspaceDiskSnapshot(name) {
      const qmp = await options.qmp();
      await qmp.execute(
        "blockdev-snapshot-delete-internal-sync",
        { device: WORKSPACE_DRIVE, name },
        COMMAND_TIMEOUT_MS,
      );
    },
  };
}
