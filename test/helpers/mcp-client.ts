import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { CLI } from "./cli.js";

/** A real `pyro mcp serve` child driven by the MCP SDK's own client. */
export async function connectMcp(profile: string | null): Promise<Client> {
  const args = [CLI, "mcp", "serve", ...(profile === null ? [] : ["--profile", profile])];
  const transport = new StdioClientTransport({
    command: process.execPath,
    args,
    env: Object.fromEntries(
      Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined),
    ),
    stderr: "pipe",
  });
  const client = new Client({ name: "pyro-tests", version: "1.0.0" });
  await client.connect(transport);
  return client;
}
