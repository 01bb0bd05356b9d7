/** Seed and sync of a 10k-file tree, against a host tar of the same tree and a plain create. */
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { clients, deleteQuietly, templateCreate } from "./baselines.js";
import { makeTree } from "./workspace.js";
import { formatMs, median, report, timeRuns } from "./stats.js";

/** The figure the release before memory templates and workspace disks measured for this sync. */
const PREVIOUS_SYNC = "4.2-7 s";

export async function benchSeed({ quick, home }) {
  // A seeded create and a sync each take seconds under TCG: two samples in a full run.
  const runs = quick ? 1 : 2;
  const { warm: pyro } = clients(home);
  const create = await templateCreate(home, quick);
  const tree = join(home, "seed-tree");
  const copy = join(home, "seed-tree-copy");
  makeTree(tree, 10_000);
  try {
    const hostTar = median(
      await timeRuns(runs, () => {
        rmSync(copy, { recursive: true, force: true });
        mkdirSync(copy);
        execFileSync("sh", ["-c", `tar -C '${tree}' -cf - . | tar -C '${copy}' -xf -`]);
      }),
    );
    const seeded = [];
    let id = null;
    try {
      for (let i = 0; i < runs; i += 1) {
        if (id !== null) await deleteQuietly(pyro, id);
        const started = performance.now();
        id = (await pyro.createWorkspace({ seedPath: tree })).workspace_id;
        await pyro.execWorkspace({ workspaceId: id, command: ["true"] });
        seeded.push(performance.now() - started);
      }
      const sync = median(
        await timeRuns(runs, (i) =>
          pyro.pushWorkspaceSync({ workspaceId: id, sourcePath: tree, dest: `/workspace/sync${i}` }),
        ),
      );
      const check = await pyro.execWorkspace({
        workspaceId: id,
        command: "find /workspace/sync0 -type f | wc -l",
        timeoutSeconds: 120,
      });
      if (check.stdout.trim() !== "10000")
        throw new Error(`sync copied ${check.stdout.trim()} files, not 10000`);
      const seedMs = median(seeded);
      const seedCost = seedMs - create.ms;
      report("Seed and sync of a 10k-file tree (~1.4 MB in 100 folders)", [
        ["tar c | tar x on the host (median)", formatMs(hostTar)],
        ["create seeded with the tree -> first exec (median)", formatMs(seedMs)],
        ["create, no seed -> first exec (median)", formatMs(create.ms)],
        ["seed cost: seeded - plain create", formatMs(seedCost)],
        ["ratio seed cost / host tar", `${(seedCost / hostTar).toFixed(1)}x`],
        [`workspace sync push (median; previous release ${PREVIOUS_SYNC})`, formatMs(sync)],
        ["ratio sync / host tar", `${(sync / hostTar).toFixed(1)}x`],
      ]);
    } finally {
      if (id !== null) await deleteQuietly(pyro, id);
    }
  } finally {
    rmSync(tree, { recursive: true, force: true });
    rmSync(copy, { recursive: true, force: true });
  }
}
