/** Memory templates: create → first exec and `pyro run -- true`, restored from a template vs booted cold. */
import { spawnSync } from "node:child_process";
import { coldCreate, templateCreate, warmTemplate } from "./baselines.js";
import { CLI, formatMs, median, report, timeRuns } from "./stats.js";

/** `pyro run debian:12 -- true` through the real CLI, in the default shape (the warmed template's). */
function cliRun(env) {
  const result = spawnSync(process.execPath, [CLI, "run", "debian:12", "--", "true"], {
    stdio: "ignore",
    env,
  });
  if (result.status !== 0) throw new Error(`pyro run failed with ${result.status}`);
}

export async function benchTemplates({ quick, home }) {
  const warm = await warmTemplate(home);
  const cold = await coldCreate(home, quick);
  const restored = await templateCreate(home, quick);
  const ratio = restored.ms / cold.ms;
  report("Memory templates: workspace create -> first exec (debian:12, 1 vCPU, 1 GiB)", [
    ["make the template (pyro env warm, once)", formatMs(warm.ms)],
    [`cold boot (median; start_mode ${cold.modes})`, formatMs(cold.ms)],
    [`from the template (median; start_mode ${restored.modes})`, formatMs(restored.ms)],
    [
      "  of which the VM start (start_timings.total_ms, median)",
      restored.startMs === null ? "-" : formatMs(restored.startMs),
    ],
    ["ratio template / cold (target <= 0.15x)", `${ratio.toFixed(2)}x`],
  ]);

  const coldEnv = { ...process.env, PYRO_TEMPLATES: "off" };
  const warmEnv = { ...process.env };
  delete warmEnv.PYRO_TEMPLATES;
  const coldRun = median(await timeRuns(quick ? 1 : 2, () => cliRun(coldEnv)));
  const warmRun = median(await timeRuns(quick ? 2 : 3, () => cliRun(warmEnv)));
  report("pyro run debian:12 -- true, end to end through the CLI", [
    ["cold boot (PYRO_TEMPLATES=off, median)", formatMs(coldRun)],
    ["from the template (median; target <= 1.0 s)", formatMs(warmRun)],
    ["ratio template / cold", `${(warmRun / coldRun).toFixed(2)}x`],
  ]);
}
