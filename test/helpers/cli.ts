import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

export const CLI = fileURLToPath(new URL("../../dist/cli.js", import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built `pyro` CLI as a real child process; `prefix` wraps it (for example
 * `ip netns exec NS` to run it inside a test's network namespace).
 */
export function runPyro(
  args: string[],
  env: Record<string, string | undefined> = {},
  prefix: string[] = [],
): Promise<CliResult> {
  const child = spawnPyro(args, env, prefix);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

export function spawnPyro(
  args: string[],
  env: Record<string, string | undefined> = {},
  prefix: string[] = [],
): ChildProcess {
  const [command, ...rest] = [...prefix, process.execPath, CLI, ...args] as [string, ...string[]];
  return spawn(command, rest, {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}
