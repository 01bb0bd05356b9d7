import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { Command } from "commander";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { OPERATIONS, operationsForProfile } from "../../src/api/specs/index.js";
import type { AnyOperation } from "../../src/api/types.js";
import { PyroError } from "../../src/errors/index.js";
import { CLI_EXTRAS } from "../../src/surfaces/cli/extras.js";
import type { Invoke } from "../../src/surfaces/cli/output.js";
import { cliParameters, describeDefault, inputSchema } from "../../src/surfaces/cli/parameters.js";
import { buildCliManifest } from "../../src/surfaces/cli/manifest.js";
import { buildProgram, commandsFor } from "../../src/surfaces/cli/program.js";
import { createMcpServer } from "../../src/surfaces/mcp/server.js";
import { snakeKeys } from "../../src/surfaces/sdk/case.js";
import { Pyro } from "../../src/surfaces/sdk/pyro.js";

/** What each surface was handed, by operation: the CLI's input before the schema fills defaults. */
const captured: Array<{ name: string; input: Record<string, unknown> }> = [];
const capture: Invoke = (operation, input) => {
  captured.push({ name: operation.name, input });
  return Promise.reject(new PyroError("INVALID_ARGUMENT", "captured by the parity test"));
};

function findCommand(program: Command, words: readonly string[]): Command | undefined {
  let current: Command | undefined = program;
  for (const word of words) current = current?.commands.find((command) => command.name() === word);
  return current;
}

/** Runs `pyro WORDS…` against the generated program and returns the input the CLI built. */
async function cliInput(words: readonly string[], argv: string[]): Promise<Record<string, unknown>> {
  const program = buildProgram(() => undefined, capture, await buildCliManifest());
  const quiet = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
  try {
    captured.length = 0;
    await program.parseAsync(["node", "pyro", ...words, ...argv]);
  } finally {
    quiet.mockRestore();
  }
  expect(captured, `pyro ${words.join(" ")} ${argv.join(" ")}`).toHaveLength(1);
  return captured[0]?.input ?? {};
}

/** The least a command needs on the command line: its required arguments and flags. */
function minimalArgv(operation: AnyOperation, except?: string): string[] {
  const { positionals, flags } = cliParameters(operation);
  const argv: string[] = [];
  for (const positional of positionals) {
    if (positional.param === "command") argv.push("--", "true");
    else if (positional.syntax.startsWith("<")) argv.unshift(`${positional.param}-value`);
  }
  for (const flag of flags) {
    if (flag.required && flag.param !== except) argv.unshift(flag.long, `${flag.param}-value`);
  }
  if (operation.name === "workspace_patch_apply") argv.unshift("--patch", "patch-text");
  return argv;
}

/** A value for a flag and what the parameter should receive from it. */
function sample(operation: AnyOperation, param: string): { argv: string[]; expected: unknown } {
  const flag = cliParameters(operation).flags.find((candidate) => candidate.param === param);
  if (flag === undefined) throw new Error(`${operation.name}: no flag for ${param}`);
  const enumValues = (inputSchema(operation).properties[param] as { enum?: string[] }).enum;
  switch (flag.kind) {
    case "boolean":
      return { argv: [flag.long], expected: true };
    case "negated":
      return { argv: [flag.long], expected: false };
    case "integer":
      return { argv: [flag.long, "7"], expected: 7 };
    case "list":
      return { argv: [flag.long, "a", flag.long, "b"], expected: ["a", "b"] };
    case "pairs":
      return { argv: [flag.long, "K=V", flag.long, "L=W=X"], expected: { K: "V", L: "W=X" } };
    case "string":
      return { argv: [flag.long, enumValues?.[0] ?? "text"], expected: enumValues?.[0] ?? "text" };
  }
}

const camel = (param: string): string =>
  param.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());

interface McpTool {
  name: string;
  description?: string;
  inputSchema: { properties?: Record<string, { default?: unknown; description?: string }> };
}

describe("one operation table, three surfaces", () => {
  let program: Command;
  let tools: McpTool[] = [];
  let client: Client | undefined;

  beforeAll(async () => {
    program = buildProgram(() => undefined, capture, await buildCliManifest());
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await createMcpServer("workspace-full").connect(serverSide);
    client = new Client({ name: "parity", version: "0" });
    await client.connect(clientSide);
    tools = (await client.listTools()).tools as McpTool[];
  });
  afterAll(async () => client?.close());

  it("has unique MCP names, SDK methods and CLI commands", () => {
    const unique = (values: string[]): boolean => new Set(values).size === values.length;
    expect(unique(OPERATIONS.map((op) => op.name))).toBe(true);
    expect(unique(OPERATIONS.map((op) => op.sdkMethod))).toBe(true);
    expect(unique(OPERATIONS.map((op) => op.cli.words.join(" ")))).toBe(true);
  });

  for (const operation of OPERATIONS) {
    describe(operation.name, () => {
      const { properties } = inputSchema(operation);
      const params = Object.keys(properties);
      const { positionals, flags } = cliParameters(operation);
      const custom = operation.cli.custom ?? [];

      it("is a CLI command with --json, a positional or flag for every parameter, and no defaults of its own", () => {
        const command = findCommand(program, operation.cli.words);
        expect(command, `pyro ${operation.cli.words.join(" ")}`).toBeDefined();
        const longs = command?.options.map((option) => option.long) ?? [];
        expect(longs).toContain("--json");
        const covered = [...positionals.map((p) => p.param), ...flags.map((f) => f.param), ...custom];
        expect(covered.sort()).toEqual([...params].sort());
        for (const flag of flags) {
          expect(longs, `${operation.name}.${flag.param}`).toContain(flag.long);
          const option = command?.options.find((candidate) => candidate.long === flag.long);
          // Commander's own default for --no-x is true; every other default is the schema's.
          if (flag.kind !== "negated") expect(option?.defaultValue, flag.long).toBeUndefined();
          const shown =
            flag.kind === "negated" ? "(on by default)" : describeDefault(properties[flag.param]?.default);
          expect(option?.description).toContain(shown);
        }
        for (const param of custom) expect(CLI_EXTRAS.get(operation.name)?.fill, param).toBeDefined();
      });

      it("passes no CLI default of its own: left out, a parameter gets the schema's default on every surface", async () => {
        const input = await cliInput(operation.cli.words, minimalArgv(operation));
        const given = positionals.filter((p) => p.syntax.startsWith("<")).map((p) => p.param);
        for (const [param, property] of Object.entries(properties)) {
          if (property.default !== undefined && !given.includes(param)) {
            expect(input, `${operation.name}.${param}`).not.toHaveProperty(param);
          }
        }
      });

      for (const flag of flags) {
        it(`maps ${flag.long} onto ${flag.param}`, async () => {
          const { argv, expected } = sample(operation, flag.param);
          const input = await cliInput(operation.cli.words, [...argv, ...minimalArgv(operation, flag.param)]);
          expect(input[flag.param]).toEqual(expected);
        });
      }

      it("is an SDK method whose camelCase options name the same parameters", () => {
        expect(typeof (Pyro.prototype as unknown as Record<string, unknown>)[operation.sdkMethod]).toBe(
          "function",
        );
        const options = Object.fromEntries(params.map((param) => [camel(param), param]));
        expect(snakeKeys(options)).toEqual(Object.fromEntries(params.map((param) => [param, param])));
      });

      it("is an MCP tool with the same parameters, descriptions and defaults", () => {
        expect(operation.profiles).toContain("workspace-full");
        expect(operation.description.length).toBeGreaterThan(20);
        const tool = tools.find((candidate) => candidate.name === operation.name);
        expect(tool, operation.name).toBeDefined();
        const published = tool?.inputSchema.properties ?? {};
        expect(Object.keys(published).sort()).toEqual([...params].sort());
        for (const [param, property] of Object.entries(published)) {
          expect(property.description, `${operation.name}.${param}`).toBeTruthy();
          expect(property.default, `${operation.name}.${param}`).toEqual(properties[param]?.default);
        }
      });
    });
  }

  it("builds only the command a command line names, and every command otherwise", async () => {
    const manifest = await buildCliManifest();
    const names = (argv: string[]): string[] =>
      commandsFor(["node", "pyro", ...argv], manifest).map((e) => e.name);
    expect(names(["workspace", "list", "--json"])).toEqual(["workspace_list"]);
    expect(names(["run", "debian:12", "--", "workspace", "list"])).toEqual(["vm_run"]);
    expect(names(["workspace", "--help"])).toHaveLength(manifest.length);
    expect(names(["workspace", "lis"])).toHaveLength(manifest.length);
  });

  it("gives each Pyro its own store, built from its options", () => {
    const first = new Pyro({ home: "/tmp/pyro-parity-a" });
    const second = new Pyro({ home: "/tmp/pyro-parity-b" });
    expect([first.store.home, second.store.home]).toEqual(["/tmp/pyro-parity-a", "/tmp/pyro-parity-b"]);
  });

  it("has env pull, push, import and verify on every surface, the registry password read from stdin on the CLI", async () => {
    const registryOps = [
      ["env_pull", ["env", "pull"], "pullEnvironment"],
      ["env_push", ["env", "push"], "pushEnvironment"],
      ["env_import", ["env", "import"], "importEnvironment"],
      ["env_verify", ["env", "verify"], "verifyEnvironment"],
    ] as const;
    for (const [name, words, method] of registryOps) {
      const operation = OPERATIONS.find((candidate) => candidate.name === name);
      expect(operation, name).toBeDefined();
      expect(operation?.cli.words).toEqual(words);
      expect(operation?.sdkMethod).toBe(method);
      expect(tools.map((tool) => tool.name)).toContain(name);
      const longs = findCommand(program, words)?.options.map((option) => option.long) ?? [];
      if (name === "env_verify") {
        expect(longs).not.toContain("--password-stdin");
        continue;
      }
      // A password never goes on a command line: MCP and the SDK take `password`, the CLI stdin.
      expect(longs).toContain("--password-stdin");
      expect(longs).toContain("--username");
      expect(longs).not.toContain("--password");
      expect(Object.keys(tools.find((tool) => tool.name === name)?.inputSchema.properties ?? {})).toContain(
        "password",
      );
    }
  });

  it("offers the environment tools that install or change the cache in workspace-full only, the listing everywhere", async () => {
    const changing = ["env_build", "env_pull", "env_push", "env_import", "env_verify", "env_inspect"];
    for (const profile of ["vm-run", "workspace-core", "workspace-full"] as const) {
      const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
      await createMcpServer(profile).connect(serverSide);
      const profileClient = new Client({ name: "parity-profiles", version: "0" });
      await profileClient.connect(clientSide);
      try {
        const names = (await profileClient.listTools()).tools.map((tool) => tool.name);
        expect(names, profile).toContain("vm_list_environments");
        for (const name of changing) {
          if (profile === "workspace-full") expect(names, profile).toContain(name);
          else expect(names, profile).not.toContain(name);
        }
      } finally {
        await profileClient.close();
      }
    }
  });

  it("keeps the vm-run profile to vm_run and vm_list_environments", () => {
    expect(
      operationsForProfile("vm-run")
        .map((op) => op.name)
        .sort(),
    ).toEqual(["vm_list_environments", "vm_run"]);
  });
});
