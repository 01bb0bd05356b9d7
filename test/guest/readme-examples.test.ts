import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canCreateLab, createLab, LAB_NAME, type Lab } from "../fixtures/netns-lab.mjs";
import { CLI } from "../helpers/cli.js";
import { processesMentioning } from "../helpers/processes.js";
import { useTempPyroHome } from "../helpers/pyro-home.js";

const README = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

// Blocks that set up or test a checkout, or register pyro with an MCP client: not examples to run.
const NOT_EXAMPLES = [/^\.\/scripts\/setup\.sh\b/, /^npm test\b/, /^\w+ mcp add\b/];

/** Every fenced sh block of the README, in order, except the set-up ones. */
function readmeExamples(readme: string): string[] {
  const blocks = [...readme.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((match) => match[1] as string);
  return blocks.filter((block) => {
    const lines = block.split("\n").filter((line) => line.trim() !== "");
    return !lines.every((line) => NOT_EXAMPLES.some((pattern) => pattern.test(line)));
  });
}

function run(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * The README's shell examples, run as written, one after the other in one shell (later blocks use
 * the `$id` of earlier ones), with `pyro` on PATH, in a fresh folder and inside a lab network
 * namespace: its DNS answers the name the network example looks up and its loopback holds the
 * published port, so nothing leaves the machine and no host port is taken.
 */
describe.skipIf(!canCreateLab())("the README's examples", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  let folder: string;
  let lab: Lab;
  beforeAll(async () => {
    home = useTempPyroHome();
    folder = mkdtempSync("/tmp/pyro-readme-");
    const name = /getent hosts (\S+)/.exec(README)?.[1] ?? LAB_NAME;
    lab = await createLab({ name });
  });
  afterAll(() => {
    lab?.close();
    rmSync(folder, { recursive: true, force: true });
    home.cleanup();
  });

  it("run as written and do what their comments say", { timeout: 900_000 }, async () => {
    const examples = readmeExamples(README);
    expect(examples.length).toBeGreaterThanOrEqual(6);
    const bin = join(folder, "bin");
    mkdirSync(bin);
    writeFileSync(join(bin, "pyro"), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
    chmodSync(join(bin, "pyro"), 0o755);
    const script = join(folder, "examples.sh");
    const body = examples.map((block, index) => `echo "### example ${index + 1}" >&2\n${block}`).join("\n");
    writeFileSync(script, `set -euxo pipefail\n${body}\n`);
    const work = join(folder, "work");
    mkdirSync(work);
    const [command, args] = lab.inPyroNamespace("bash", script);
    const result = await run(command, args, {
      cwd: work,
      env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}` },
    });
    const shown = `${result.stderr.slice(-6000)}\n--- stdout ---\n${result.stdout.slice(-3000)}`;
    expect(result.code, shown).toBe(0);
    expect(result.stdout, shown).toMatch(/^Runtime: (PASS|FAIL)/m);
    expect(result.stdout).toMatch(/^git version /m);
    expect(result.stdout).toContain("tests pass");
    expect(result.stdout).toMatch(/service_name=web state=running ready=true/);
    expect(result.stdout).toContain("deploying with [secret:API_TOKEN]");
    expect(result.stdout).toContain("hello from the guest");
    expect(result.stdout).toContain("kept on the disk");
    expect(readFileSync(join(work, "src-from-sandbox", "app.txt"), "utf8")).toBe("login: fixed\n");
    expect(processesMentioning(home.home)).toEqual([]);
  });
});
