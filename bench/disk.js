/** Stop/start latencies and disk export throughput. */
import { rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { Pyro } from "../dist/index.js";
import { formatMs, median, report, timeRuns } from "./stats.js";

const pyro = new Pyro();

export async function benchDisk({ quick, home }) {
  const ws = await pyro.createWorkspace({ memMib: 512 });
  const id = ws.workspace_id;
  try {
    await pyro.execWorkspace({
      workspaceId: id,
      command: "head -c 50000000 /dev/urandom > blob.bin",
      timeoutSeconds: 120,
    });
    const runs = quick ? 2 : 4;
    const stops = [];
    const starts = [];
    for (let i = 0; i < runs; i += 1) {
      stops.push(...(await timeRuns(1, () => pyro.stopWorkspace({ workspaceId: id }))));
      starts.push(...(await timeRuns(1, () => pyro.startWorkspace({ workspaceId: id }))));
    }
    await pyro.stopWorkspace({ workspaceId: id });
    const image = join(home, "disk.img");
    const exports = await timeRuns(runs, () => {
      rmSync(image, { force: true });
      return pyro.exportWorkspaceDisk({ workspaceId: id, outputPath: image });
    });
    const allocated = Number(execFileSync("du", ["-B1", image]).toString().split("\t")[0]);
    const copy = await timeRuns(runs, () => execFileSync("cp", ["--sparse=always", image, `${image}.copy`]));
    const exportMs = median(exports);
    report("Stop, start and disk export (2 GiB image, ~300 MB used)", [
      ["workspace stop (median)", formatMs(median(stops))],
      ["workspace start (median)", formatMs(median(starts))],
      ["disk export (median)", formatMs(exportMs)],
      [
        "export throughput (allocated bytes)",
        `${(allocated / 1024 / 1024 / (exportMs / 1000)).toFixed(0)} MiB/s`,
      ],
      [
        "export throughput (apparent size)",
        `${(statSync(image).size / 1024 / 1024 / (exportMs / 1000)).toFixed(0)} MiB/s`,
      ],
      ["cp --sparse of the same image (median)", formatMs(median(copy))],
      ["ratio export / cp", `${(exportMs / median(copy)).toFixed(1)}x`],
    ]);
  } finally {
    await pyro.deleteWorkspace({ workspaceId: id });
  }
}
