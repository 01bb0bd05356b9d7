#!/usr/bin/env node
/**
 * pyro's benchmark: every figure is a median measured in this run, and every comparison is a
 * ratio against a baseline measured in the same run. Needs `npm run build` and debian:12.
 * Usage: npm run bench [-- --quick] [-- --only startup|spine|templates|hardening|workspace|snapshots|seed|density|shells|disk|network]
 */
import { mkdtempSync, rmSync } from "node:fs";

const quick = process.argv.includes("--quick");
const only = process.argv.includes("--only") ? process.argv[process.argv.indexOf("--only") + 1] : null;
const home = mkdtempSync("/tmp/pyro-bench-");
process.env.PYRO_HOME = home;

// Each section is loaded only when it runs: `--only startup` needs none of the others' modules.
const wanted = (section) => only === null || only === section;

try {
  if (wanted("startup")) await (await import("./startup.js")).benchStartup({ quick });
  if (wanted("spine")) await (await import("./spine.js")).benchSpine({ quick, home });
  if (wanted("templates")) await (await import("./templates.js")).benchTemplates({ quick, home });
  if (wanted("hardening")) await (await import("./hardening.js")).benchHardening({ quick, home });
  if (wanted("workspace")) await (await import("./workspace.js")).benchWorkspace({ quick, home });
  if (wanted("snapshots")) await (await import("./snapshots.js")).benchSnapshots({ quick, home });
  if (wanted("seed")) await (await import("./seed.js")).benchSeed({ quick, home });
  if (wanted("density")) await (await import("./density.js")).benchDensity({ quick, home });
  if (wanted("shells")) await (await import("./shells.js")).benchShells({ quick });
  if (wanted("disk")) await (await import("./disk.js")).benchDisk({ quick, home });
  if (wanted("network")) await (await import("./network.js")).benchNetwork({ quick });
} finally {
  rmSync(home, { recursive: true, force: true });
}
