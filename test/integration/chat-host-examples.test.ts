import { readFileSync } from "node:fs";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { DEFAULT_PROFILE, PROFILES } from "../../src/api/profiles.js";
import { operationsForProfile } from "../../src/api/specs/index.js";
import type { Profile } from "../../src/api/types.js";
import { CLI } from "../helpers/cli.js";
import { useTempPyroHome } from "../helpers/pyro-home.js";

const example = (name: string): string =>
  readFileSync(new URL(`../../examples/${name}`, import.meta.url), "utf8");

/** The shapes each host documents for a local (stdio) server. */
const stdioEntry = z
  .object({
    command: z.string().min(1),
    args: z.array(z.string()),
    env: z.record(z.string(), z.string()).optional(),
  })
  .strict();
const mcpServers = z.object({ mcpServers: z.object({ pyro: stdioEntry }).strict() }).strict();
const openCode = z
  .object({
    $schema: z.literal("https://opencode.ai/config.json"),
    mcp: z
      .object({
        pyro: z
          .object({
            type: z.literal("local"),
            enabled: z.boolean(),
            command: z.array(z.string()).min(1),
            environment: z.record(z.string(), z.string()).optional(),
          })
          .strict(),
      })
      .strict(),
  })
  .strict();

/** The one command line of a `claude mcp add` / `codex mcp add` script, as its words after `--`. */
function addLine(script: string, host: "claude" | "codex"): string[] {
  const lines = script.split("\n").filter((line) => line.trim() !== "" && !line.startsWith("#"));
  expect(lines).toEqual([`${host} mcp add pyro -- npx -y pyro-mcp mcp serve`]);
  const [, command = ""] = (lines[0] ?? "").split(" -- ");
  return command.split(" ");
}

/**
 * The installed package is not on this machine's npm registry, so the test starts the checkout's
 * build instead: the config's `npx -y pyro-mcp` becomes `node dist/cli.js`, everything after it
 * stays exactly as the file says.
 */
function fromCheckout(argv: readonly string[]): [string, string[]] {
  expect(argv.slice(0, 3)).toEqual(["npx", "-y", "pyro-mcp"]);
  return [process.execPath, [CLI, ...argv.slice(3)]];
}

function profileOf(args: readonly string[]): Profile {
  const index = args.indexOf("--profile");
  const named = index >= 0 ? args[index + 1] : DEFAULT_PROFILE;
  const profile = PROFILES.find((candidate) => candidate === named);
  if (profile === undefined) throw new Error(`unknown profile ${String(named)}`);
  return profile;
}

describe("chat-host configs in examples/ start a server with the right tools", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  const clients: Client[] = [];
  beforeAll(() => {
    home = useTempPyroHome();
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    home.cleanup();
  });

  /** Starts the config's command (from the checkout), lists its tools and checks them against its profile. */
  async function expectServes(argv: readonly string[], env: Record<string, string> = {}): Promise<void> {
    const [command, args] = fromCheckout(argv);
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined),
    );
    // A config's PYRO_HOME is a placeholder path: the server gets the test's own home instead.
    const transport = new StdioClientTransport({
      command,
      args,
      env: { ...inherited, ...env, PYRO_HOME: home.home },
      stderr: "pipe",
    });
    const client = new Client({ name: "chat-host-example", version: "1.0.0" });
    clients.push(client);
    await client.connect(transport);
    const names = (await client.listTools()).tools.map((tool) => tool.name).sort();
    const expected = operationsForProfile(profileOf(args))
      .map((operation) => operation.name)
      .sort();
    expect(names).toEqual(expected);
  }

  it("claude-code.sh: `claude mcp add pyro -- npx -y pyro-mcp mcp serve` serves workspace-core", async () => {
    const argv = addLine(example("claude-code.sh"), "claude");
    expect(profileOf(argv)).toBe("workspace-core");
    await expectServes(argv);
  });

  it("codex.sh: `codex mcp add pyro -- npx -y pyro-mcp mcp serve` serves workspace-core", async () => {
    await expectServes(addLine(example("codex.sh"), "codex"));
  });

  it("opencode.json: mcp.pyro is a local server whose command array starts pyro", async () => {
    const config = openCode.parse(JSON.parse(example("opencode.json")));
    expect(config.mcp.pyro.enabled).toBe(true);
    await expectServes(config.mcp.pyro.command, config.mcp.pyro.environment);
  });

  it("claude-desktop.json: mcpServers.pyro with command and args, profile workspace-core", async () => {
    const { pyro } = mcpServers.parse(JSON.parse(example("claude-desktop.json"))).mcpServers;
    expect(profileOf(pyro.args)).toBe("workspace-core");
    await expectServes([pyro.command, ...pyro.args], pyro.env);
  });

  it("cursor-mcp.json: mcpServers.pyro with command and args, profile vm-run", async () => {
    const { pyro } = mcpServers.parse(JSON.parse(example("cursor-mcp.json"))).mcpServers;
    expect(profileOf(pyro.args)).toBe("vm-run");
    await expectServes([pyro.command, ...pyro.args], pyro.env);
  });

  it("mcp-client.json: a generic stdio entry (command, args, env), profile workspace-full", async () => {
    const entry = stdioEntry.parse(JSON.parse(example("mcp-client.json")));
    expect(profileOf(entry.args)).toBe("workspace-full");
    expect(Object.keys(entry.env ?? {})).toEqual(["PYRO_HOME"]);
    await expectServes([entry.command, ...entry.args], entry.env);
  });
});
