import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { CLI } from "./cli.js";

/**
 * A real `pyro mcp serve` child driven by the MCP SDK's own client (`prefix` wraps the command;
 * `options` adds server arguments, a working directory or environment variables).
 */
export async function connectMcp(
  profile: string | null,
  prefix: string[] = [],
  options: { args?: string[]; cwd?: string; env?: Record<string, string> } = {},
): Promise<Client> {
  const [command, ...args] = [
    ...prefix,
    process.execPath,
    CLI,
    "mcp",
    "serve",
    ...(profile === null ? [] : ["--profile", profile]),
    ...(options.args ?? []),
  ] as [string, ...string[]];
  const transport = new StdioClientTransport({
    command,
    args,
    env: {
      ...Object.fromEntries(
        Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined),
      ),
      ...options.env,
    },
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    stderr: "pipe",
  });
  const client = new Client({ name: "pyro-tests", version: "1.0.0" });
  await client.connect(transport);
  return client;
}
