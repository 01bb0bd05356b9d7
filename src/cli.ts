#!/usr/bin/env node
import { runCli } from "./cli/program.js";

const exitCode = await runCli(process.argv);
// `mcp serve` keeps the process alive through its transport; every other command ends here.
if (!process.argv.slice(2).includes("serve")) {
  process.exitCode = exitCode;
}
