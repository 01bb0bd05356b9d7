import { execFileSync } from "node:child_process";
import { runPyro, type CliResult } from "./cli.js";

/** The CLI run with `prefix` (a test's network namespace), its stdout parsed as JSON on demand. */
export async function pyroWith(
  prefix: string[],
  args: string[],
): Promise<CliResult & { json(): Record<string, unknown> }> {
  const result = await runPyro(args, {}, prefix);
  return { ...result, json: () => JSON.parse(result.stdout) as Record<string, unknown> };
}

/** GET http://127.0.0.1:port/ from inside a network namespace: the body, or "REFUSED". */
export function httpGetIn(namespace: string, port: number): string {
  return execFileSync("ip", [
    "netns",
    "exec",
    namespace,
    process.execPath,
    "-e",
    `fetch("http://127.0.0.1:${port}/").then(r => r.text()).then(t => process.stdout.write(t), () => process.stdout.write("REFUSED"))`,
  ]).toString();
}
