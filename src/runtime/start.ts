import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { PyroError } from "../errors/index.js";
import { packageRoot } from "../platform/package-info.js";
import { writeJsonAtomic } from "../platform/atomic-file.js";
import { ReadyReport, configPath, type SupervisorConfig } from "./config.js";

/** The compiled supervisor entry; the package is always built before it runs. */
function supervisorEntry(): string {
  return join(packageRoot(), "dist", "runtime", "main.js");
}

/**
 * Starts a detached supervisor for one VM and waits for its one-line readiness report. The
 * supervisor (and through it the VM) outlives the calling process.
 */
export async function startSupervisor(
  config: SupervisorConfig,
  logPath: string,
): Promise<ReadyReport & { pid: number }> {
  writeJsonAtomic(configPath(config.dir), config);
  const log = openSync(logPath, "a", 0o600);
  const child = spawn(process.execPath, [supervisorEntry(), config.dir], {
    detached: true,
    stdio: ["ignore", log, log, "pipe"],
    env: process.env,
  });
  closeSync(log);
  const readyPipe = child.stdio[3] as Readable;
  const line = await new Promise<string>((resolve) => {
    let text = "";
    readyPipe.on("data", (chunk: Buffer) => {
      text += chunk.toString("utf8");
    });
    readyPipe.on("close", () => resolve(text));
  });
  child.unref();
  const pid = child.pid ?? 0;
  const report = parseReport(line, logPath);
  return { ...report, pid };
}

function parseReport(line: string, logPath: string): ReadyReport {
  let report: unknown;
  try {
    report = JSON.parse(line.trim());
  } catch (error) {
    throw new PyroError("VM_BOOT_FAILED", `the VM supervisor died before reporting; see ${logPath}`, {
      cause: error,
      details: { supervisor_log: logPath },
    });
  }
  const parsed = ReadyReport.safeParse(report);
  if (!parsed.success)
    throw new PyroError("VM_BOOT_FAILED", `the VM supervisor's report is malformed; see ${logPath}`, {
      details: { supervisor_log: logPath },
    });
  return parsed.data;
}
