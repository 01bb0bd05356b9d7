#!/usr/bin/env node
import { readFileSync } from "node:fs";

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === "--version" || args[0] === "-V")) {
  // The most frequent health check of an installation answers without loading anything else.
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  process.stdout.write(`${pkg.version}\n`);
} else {
  const { runCli } = await import("./surfaces/cli/program.js");
  // Setting (not forcing) the exit code lets `mcp serve` live on through its transport.
  process.exitCode = await runCli(process.argv);
}
