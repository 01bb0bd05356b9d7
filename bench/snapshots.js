/** Workspace snapshots (10 MB vs 100 MB), reset, pause, resume and fork, against create and cold boot. */
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { clients, coldCreate, deleteQuietly, templateCreate } from "./baselines.js";
import { formatMs, median, report } from "./stats.js";

async function timed(action) {
  const started = performance.now();
  const result = await action();
  return { ms: performance.now() - started, result };
}

/**
 * Adds `mb` MB of random bytes to /workspace/<name> (pushed from the host) and flushes them to
 * the disk: a snapshot's freeze would otherwise also write back what was just written, a cost of
 * the data written since the last flush, not of the workspace's size. Returns the flush's time.
 */
async function addData(pyro, workspaceId, home, name, mb) {
  const file = join(home, name);
  execFileSync("sh", ["-c", `head -c ${mb * 1_000_000} /dev/urandom > '${file}'`]);
  await pyro.pushWorkspaceSync({ workspaceId, sourcePath: file });
  rmSync(file, { force: true });
  return (await timed(() => pyro.execWorkspace({ workspaceId, command: ["sync"], timeoutSeconds: 120 }))).ms;
}

const ratio = (a, b) => `${(a / b).toFixed(2)}x`;

export async function benchSnapshots({ quick, home }) {
  const runs = quick ? 1 : 3;
  // Snapshots take well under a second: more samples against the noise of a shared machine.
  const snapshotRuns = quick ? 3 : 5;
  const { warm: pyro } = clients(home);
  const cold = await coldCreate(home, quick);
  const create = await templateCreate(home, quick);
  const exec = (workspaceId) => pyro.execWorkspace({ workspaceId, command: ["true"] });

  const { workspace_id: id } = await pyro.createWorkspace({});
  const forks = [];
  try {
    await addData(pyro, id, home, "ten.bin", 10);
    const snap10 = [];
    for (let i = 0; i < snapshotRuns; i += 1)
      snap10.push((await timed(() => pyro.createSnapshot({ workspaceId: id, snapshotName: `s10-${i}` }))).ms);
    const flush = await addData(pyro, id, home, "ninety.bin", 90);
    const snap100 = [];
    for (let i = 0; i < snapshotRuns; i += 1)
      snap100.push(
        (await timed(() => pyro.createSnapshot({ workspaceId: id, snapshotName: `s100-${i}` }))).ms,
      );
    const s10 = median(snap10);
    const s100 = median(snap100);

    const reset = [];
    for (let i = 0; i < runs; i += 1)
      reset.push(
        (
          await timed(async () => {
            await pyro.resetWorkspace({ workspaceId: id, snapshot: "s100-0" });
            await exec(id);
          })
        ).ms,
      );
    const resetMs = median(reset);
    report("Workspace snapshots and reset (/workspace on its own disk)", [
      ["snapshot create, 10 MB workspace (median)", formatMs(s10)],
      ["snapshot create, 100 MB workspace (median; target <= 1 s)", formatMs(s100)],
      ["ratio 100 MB / 10 MB (target <= 1.2x)", ratio(s100, s10)],
      ["  (guest sync of the 90 MB just written, before; not in the figures)", formatMs(flush)],
      ["reset to the 100 MB snapshot -> first exec (median)", formatMs(resetMs)],
      ["plain create -> first exec, from the template (median)", formatMs(create.ms)],
      ["ratio reset / plain create (target <= 1.5x)", ratio(resetMs, create.ms)],
      ["ratio reset / cold create", ratio(resetMs, cold.ms)],
    ]);

    // The first pause after a restore is measured apart: QEMU's save reads all guest RAM, and for a
    // VM restored from a template that RAM is the template's file, first brought into the page cache.
    const pause = [];
    const saveMs = [];
    const resume = [];
    let saved = 0;
    for (let i = 0; i < runs + 1; i += 1) {
      const paused = await timed(() => pyro.pauseWorkspace({ workspaceId: id }));
      pause.push(paused.ms);
      saveMs.push(paused.result.save_ms);
      saved = paused.result.saved_bytes;
      resume.push(
        (
          await timed(async () => {
            await pyro.resumeWorkspace({ workspaceId: id });
            await exec(id);
          })
        ).ms,
      );
    }
    const fork = [];
    for (let i = 0; i < runs; i += 1)
      fork.push(
        (
          await timed(async () => {
            const forked = await pyro.forkWorkspace({ workspaceId: id });
            forks.push(forked.workspace_id);
            await exec(forked.workspace_id);
          })
        ).ms,
      );
    const pauseMs = median(pause.slice(1));
    const resumeMs = median(resume);
    const forkMs = median(fork);
    report("Pause, resume and fork of a running 1 GiB workspace (100 MB in /workspace)", [
      [`first pause after the restore (${formatMs(saveMs[0])} of it in QEMU's save)`, formatMs(pause[0])],
      [
        `pause again (median; ${formatMs(median(saveMs.slice(1)))} in QEMU's save, ${(saved / 1024 / 1024).toFixed(0)} MiB saved)`,
        formatMs(pauseMs),
      ],
      ["resume -> first exec (median)", formatMs(resumeMs)],
      ["fork -> first exec in the fork (median)", formatMs(forkMs)],
      ["cold create -> first exec (median)", formatMs(cold.ms)],
      ["ratio first pause / cold create", ratio(pause[0], cold.ms)],
      ["ratio pause again / cold create", ratio(pauseMs, cold.ms)],
      ["ratio resume / cold create", ratio(resumeMs, cold.ms)],
      ["ratio resume / plain create (template)", ratio(resumeMs, create.ms)],
      ["ratio fork / cold create", ratio(forkMs, cold.ms)],
      ["ratio fork / plain create (template)", ratio(forkMs, create.ms)],
    ]);
  } finally {
    for (const fork of forks) await deleteQuietly(pyro, fork);
    await deleteQuietly(pyro, id);
  }
}
