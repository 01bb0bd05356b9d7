#!/usr/bin/env node
/**
 * pyro's benchmark: every figure is a median measured in this run, and every comparison is a
 * ratio against a baseline measured in the same run. Needs `npm run build` and debian:12.
 * Usage: npm run bench [-- --quick] [-- --only startup|spine|templates|hardening|workspace|snapshots|seed|density|shells|disk|network|registry]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { performance } from "node:perf_hooks";

const quick = process.argv.includes("--quick");
const only = process.argv.includes("--only") ? process.argv[process.argv.indexOf("--only") + 1] : null;
const home = mkdtempSync("/tmp/pyro-bench-");
process.env.PYRO_HOME = home;

// Each section is loaded only when it runs: `--only startup` needs none of the others' modules.
// [name, module, its function]; all get { quick, home }.
const SECTIONS = [
  ["startup", "./startup.js", "benchStartup"],
  ["spine", "./spine.js", "benchSpine"],
  ["templates", "./templates.js", "benchTemplates"],
  ["hardening", "./hardening.js", "benchHardening"],
  ["workspace", "./workspace.js", "benchWorkspace"],
  ["snapshots", "./snapshots.js", "benchSnapshots"],
  ["seed", "./seed.js", "benchSeed"],
  ["density", "./density.js", "benchDensity"],
  ["shells", "./shells.js", "benchShells"],
  ["disk", "./disk.js", "benchDisk"],
  ["network", "./network.js", "benchNetwork"],
  ["registry", "./registry.js", "benchRegistry"],
];

if (only !== null && !SECTIONS.some(([name]) => name === only)) {
  rmSync(home, { recursive: true, force: true });
  throw new Error(`no bench section "${only}"; one of ${SECTIONS.map(([name]) => name).join(", ")}`);
}

// Each section's time goes to stderr: the whole run has a budget (~6 min, ~3 with --quick).
const began = performance.now();
try {
  for (const [name, module, run] of SECTIONS) {
    if (only !== null && only !== name) continue;
    const started = performance.now();
    await (await import(module))[run]({ quick, home });
    console.error(`[bench] ${name}: ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
  console.error(`[bench] total: ${((performance.now() - began) / 1000).toFixed(0)} s`);
} finally {
  rmSync(home, { recursive: true, force: true });
}
