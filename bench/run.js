#!/usr/bin/env node
/**
 * pyro's benchmark: every figure is a median measured in this run, and every comparison is a
 * ratio against a baseline measured in the same run. Needs `npm run build` and debian:12.
 * Usage: npm run bench [-- --quick] [-- --only startup|spine|hardening|workspace|shells|disk|network]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { benchDisk } from "./disk.js";
import { benchHardening } from "./hardening.js";
import { benchNetwork } from "./network.js";
import { benchShells } from "./shells.js";
import { benchSpine } from "./spine.js";
import { benchStartup } from "./startup.js";
import { benchWorkspace } from "./workspace.js";

const quick = process.argv.includes("--quick");
const only = process.argv.includes("--only") ? process.argv[process.argv.indexOf("--only") + 1] : null;
const home = mkdtempSync("/tmp/pyro-bench-");
process.env.PYRO_HOME = home;

try {
  if (only === null || only === "startup") await benchStartup({ quick });
  if (only === null || only === "spine") await benchSpine({ quick, home });
  if (only === null || only === "hardening") await benchHardening({ quick, home });
  if (only === null || only === "workspace") await benchWorkspace({ quick, home });
  if (only === null || only === "shells") await benchShells({ quick });
  if (only === null || only === "disk") await benchDisk({ quick, home });
  if (only === null || only === "network") await benchNetwork({ quick });
} finally {
  rmSync(home, { recursive: true, force: true });
}
