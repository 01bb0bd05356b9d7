import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OPERATIONS } from "../../src/api/specs/index.js";
import { useTempPyroHome } from "../helpers/pyro-home.js";
import { installedGuestKernel } from "./guest-env.js";

const run = promisify(execFile);
const CHECKOUT = fileURLToPath(new URL("../..", import.meta.url));
const TSC = join(CHECKOUT, "node_modules", "typescript", "bin", "tsc");

// The SDK examples compiled with tsc against the built package, then run with node from a folder
// whose node_modules/pyro-mcp is this checkout: the way a user's project imports "pyro-mcp".
describe("SDK examples in examples/sdk", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  let out: string;
  let guestKernel: string;
  const example = async (name: string) => {
    const { stdout } = await run(process.execPath, [join(out, "sdk", `${name}.js`)], { env: process.env });
    const lines = stdout.trimEnd().split("\n");
    return { stdout, last: JSON.parse(lines[lines.length - 1] ?? "") as Record<string, unknown> };
  };

  beforeAll(async () => {
    home = useTempPyroHome();
    guestKernel = await installedGuestKernel();
    out = mkdtempSync(join("/tmp", "pyro-examples-"));
    mkdirSync(join(out, "node_modules"));
    symlinkSync(CHECKOUT, join(out, "node_modules", "pyro-mcp"));
    await run(process.execPath, [
      TSC,
      "-p",
      join(CHECKOUT, "examples/sdk/tsconfig.json"),
      "--outDir",
      join(out, "sdk"),
    ]);
  });
  afterAll(() => {
    rmSync(out, { recursive: true, force: true });
    home.cleanup();
  });

  it("one-shot runs git in a guest", async () => {
    const { stdout, last } = await example("one-shot");
    expect(stdout).toMatch(/^git version 2\./);
    expect(stdout).toContain(`\n${guestKernel}\n`);
    expect(last).toEqual({ exit_code: 0, execution_mode: "guest_serial" });
  });

  it("lifecycle creates, starts and execs, and the exec deletes the VM", async () => {
    const { stdout, last } = await example("lifecycle");
    expect(stdout).toMatch(/^created \w+ \(created\)\nstarted: running, backend qemu\n/);
    expect(last).toEqual({ stdout: `${guestKernel}\n`, exit_code: 0, deleted: true });
  });

  it("workspace fixes a seeded file and shows the diff", async () => {
    const { stdout, last } = await example("workspace");
    expect(stdout).toContain("-helo\n+hello");
    expect(last).toEqual({ before: 1, after: 0, stdout: "test passed\n", modified: 1 });
  });

  it("openai-tool executes a model's vm_run call, with a schema the MCP tool accepts", async () => {
    const { last } = await example("openai-tool");
    const message = last.message as { role: string; tool_call_id: string; content: string };
    expect(message).toMatchObject({ role: "tool", tool_call_id: "call_1" });
    const content = JSON.parse(message.content) as { exit_code: number; stdout: string };
    expect(content.exit_code).toBe(0);
    expect(content.stdout).toMatch(new RegExp(`^${guestKernel.replace(/\./g, "\\.")}\ngit version 2\\.`));

    const compiled = (await import(pathToFileURL(join(out, "sdk", "openai-tool.js")).href)) as {
      vmRunTool: { function: { name: string; parameters: { properties: Record<string, unknown> } } };
    };
    const spec = OPERATIONS.find((op) => op.name === "vm_run");
    const accepted = Object.keys((spec?.input as unknown as { shape: Record<string, unknown> }).shape);
    expect(compiled.vmRunTool.function.name).toBe("vm_run");
    for (const key of Object.keys(compiled.vmRunTool.function.parameters.properties))
      expect(accepted).toContain(key);
  });
});
