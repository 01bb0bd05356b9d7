/**
 * CLI start-up of the commands that touch no VM, as a ratio to a bare `node -e 0` measured in
 * the same run (interleaved, so load from anything else on the machine hits both alike).
 */
import { execFileSync } from "node:child_process";
import { performance } from "node:perf_hooks";
import { CLI, formatMs, median, report } from "./stats.js";

const COMMANDS = [
  ["pyro --version", ["--version"]],
  ["pyro --help", ["--help"]],
  ["pyro workspace list", ["workspace", "list"]],
  ["pyro env list", ["env", "list"]],
  // With its host probe cached (the warm-up below takes it): what every doctor after the first costs.
  ["pyro doctor", ["doctor"]],
];

function timeOnce(args) {
  const started = performance.now();
  // doctor exits non-zero when the host cannot run VMs: still a start-up to time.
  try {
    execFileSync(process.execPath, args, { stdio: ["ignore", "ignore", "ignore"] });
  } catch (error) {
    if (typeof error?.status !== "number") throw error;
  }
  return performance.now() - started;
}

export async function benchStartup({ quick }) {
  const runs = quick ? 1 : 15;
  const baseline = [];
  const samples = COMMANDS.map(() => []);
  timeOnce([CLI, "doctor"]); // measures the host once and caches it under PYRO_HOME
  for (let run = 0; run < runs; run += 1) {
    for (const [index, [, args]] of COMMANDS.entries()) {
      baseline.push(timeOnce(["-e", "0"]));
      samples[index].push(timeOnce([CLI, ...args]));
    }
  }
  const node = median(baseline);
  report("CLI start-up (commands that touch no VM; target at most 2x node -e 0)", [
    ["node -e 0 (median)", formatMs(node)],
    ...COMMANDS.map(([label], index) => {
      const ms = median(samples[index]);
      return [label, `${formatMs(ms)}  ${(ms / node).toFixed(2)}x`];
    }),
  ]);
}
