import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectMcp } from "../helpers/mcp-client.js";
import { useTempPyroHome } from "../helpers/pyro-home.js";

describe("pyro mcp serve (a real child process, the MCP SDK's client)", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  const clients: Client[] = [];
  beforeAll(() => {
    home = useTempPyroHome();
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    home.cleanup();
  });

  async function connect(profile: string | null): Promise<Client> {
    const client = await connectMcp(profile);
    clients.push(client);
    return client;
  }

  it("exposes only vm_run and vm_list_environments in the vm-run profile, every parameter described", async () => {
    const client = await connect("vm-run");
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(["vm_list_environments", "vm_run"]);
    const vmRun = tools.find((tool) => tool.name === "vm_run");
    const properties = vmRun?.inputSchema.properties as Record<string, { description?: string }>;
    for (const name of [
      "environment",
      "command",
      "vcpu_count",
      "mem_mib",
      "timeout_seconds",
      "ttl_seconds",
      "network",
      "allow_host_compat",
    ]) {
      expect(properties[name]?.description, name).toBeTruthy();
    }
    // No parameter is required: the command defaults to an imported image's Entrypoint and Cmd.
    expect(vmRun?.inputSchema.required).toBeUndefined();
  });

  it("defines every vm_* tool in the full profile", async () => {
    const client = await connect("workspace-full");
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    for (const name of [
      "vm_create",
      "vm_start",
      "vm_exec",
      "vm_stop",
      "vm_delete",
      "vm_status",
      "vm_network_info",
      "vm_reap_expired",
    ]) {
      expect(names).toContain(name);
    }
  });

  it("runs a command and returns structured content plus readable text", async () => {
    const client = await connect(null);
    const result = (await client.callTool({
      name: "vm_run",
      arguments: { command: "echo from-mcp; exit 3", backend: "host", allow_host_compat: true },
    })) as CallToolResult;
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({
      exit_code: 3,
      stdout: "from-mcp\n",
      execution_mode: "host_compat",
    });
    expect((result.content[0] as { text: string }).text).toContain("from-mcp");
  });

  it("lists environments with their installed state", async () => {
    const client = await connect("vm-run");
    const result = (await client.callTool({ name: "vm_list_environments", arguments: {} })) as CallToolResult;
    const names = (result.structuredContent as { environments: Array<{ name: string }> }).environments.map(
      (e) => e.name,
    );
    expect(names).toEqual(["debian:12", "debian:12-base", "debian:12-build"]);
  });

  it("returns tool errors carrying the stable code", async () => {
    const client = await connect("vm-run");
    const bad = (await client.callTool({
      name: "vm_run",
      arguments: { command: "true", vcpu_count: 0 },
    })) as CallToolResult;
    expect(bad.isError).toBe(true);
    expect((bad.content[0] as { text: string }).text).toMatch(/^INVALID_ARGUMENT: /);
    expect(bad.structuredContent).toMatchObject({ error: { code: "INVALID_ARGUMENT" } });
    const unknown = (await client.callTool({
      name: "vm_run",
      arguments: { command: "true", environment: "nope:0" },
    })) as CallToolResult;
    expect(unknown.structuredContent).toMatchObject({ error: { code: "ENVIRONMENT_UNKNOWN" } });
  });

  it("rejects an unknown profile with a clear error", async () => {
    await expect(connect("everything")).rejects.toThrow();
  });
});
