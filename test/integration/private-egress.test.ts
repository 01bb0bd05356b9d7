import { readdirSync } from "node:fs";
import { join } from "node:path";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PyroError } from "../../src/errors/index.js";
import { Pyro } from "../../src/surfaces/sdk/pyro.js";
import { runPyro } from "../helpers/cli.js";
import { connectMcp } from "../helpers/mcp-client.js";
import { useTempPyroHome } from "../helpers/pyro-home.js";

// --allow-private-egress widens egress, so without egress it is refused on every surface before
// anything is created; with egress it is recorded. (What it does to the guest's traffic is proven
// in test/hostile/network-egress.test.ts.)
const HOST = ["--backend", "host", "--allow-host-compat"];

describe("--allow-private-egress without egress", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  beforeAll(() => {
    home = useTempPyroHome();
  });
  afterAll(() => home.cleanup());
  const nothingCreated = () => {
    for (const dir of ["sandboxes"]) {
      let entries: string[] = [];
      try {
        entries = readdirSync(join(home.home, dir));
      } catch {
        // never made
      }
      expect(entries, dir).toEqual([]);
    }
  };

  it("is refused by the CLI on run, vm create and workspace create", async () => {
    for (const args of [
      ["run", "debian:12", ...HOST, "--allow-private-egress", "--", "true"],
      ["vm", "create", "debian:12", ...HOST, "--allow-private-egress"],
      ["workspace", "create", "debian:12", ...HOST, "--allow-private-egress"],
      ["workspace", "create", "debian:12", ...HOST, "--network-policy", "off", "--allow-private-egress"],
    ]) {
      const result = await runPyro(args);
      expect(result.code, args.join(" ")).toBe(64);
      expect(result.stderr).toContain("error [INVALID_ARGUMENT]");
      expect(result.stderr).toContain("allow_private_egress needs a network policy with egress");
      expect(result.stderr).toMatch(/--network/);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
    nothingCreated();
  });

  it("is refused by the SDK", async () => {
    const pyro = new Pyro();
    const host = { backend: "host" as const, allowHostCompat: true, allowPrivateEgress: true };
    await expect(pyro.runInVm({ ...host, command: ["true"] })).rejects.toThrowError(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }) as PyroError,
    );
    await expect(pyro.createWorkspace(host)).rejects.toThrowError(/needs a network policy with egress/);
    nothingCreated();
  });

  it("is refused by the MCP server on vm_run and workspace_create, and described in both schemas", async () => {
    const mcp = await connectMcp("workspace-full");
    try {
      const tools = await mcp.listTools();
      for (const name of ["vm_run", "workspace_create"]) {
        const tool = tools.tools.find((t) => t.name === name);
        expect(tool?.inputSchema.properties, name).toHaveProperty("allow_private_egress");
      }
      for (const [name, args] of [
        [
          "vm_run",
          { command: ["true"], backend: "host", allow_host_compat: true, allow_private_egress: true },
        ],
        ["workspace_create", { backend: "host", allow_host_compat: true, allow_private_egress: true }],
      ] as const) {
        const result = (await mcp.callTool({ name, arguments: args })) as CallToolResult;
        expect(result.isError, name).toBe(true);
        expect(result.structuredContent).toMatchObject({ error: { code: "INVALID_ARGUMENT" } });
        expect(JSON.stringify(result.content)).toContain("needs a network policy with egress");
      }
    } finally {
      await mcp.close();
    }
    nothingCreated();
  });

  it("with egress, is recorded in the VM's network info (SDK vm create and MCP vm_create; not booted)", async () => {
    const pyro = new Pyro();
    const vm = await pyro.createVm({ network: true, allowPrivateEgress: true });
    try {
      expect(vm).toMatchObject({ network_policy: "egress", allow_private_egress: true });
      expect(await pyro.networkInfoVm({ vmId: vm.vm_id })).toMatchObject({
        policy: "egress",
        allow_private_egress: true,
      });
    } finally {
      await pyro.deleteVm({ vmId: vm.vm_id });
    }
    const mcp = await connectMcp("workspace-full");
    try {
      const created = (await mcp.callTool({
        name: "vm_create",
        arguments: { network: true, allow_private_egress: true },
      })) as CallToolResult;
      expect(created.isError, JSON.stringify(created.content)).toBeFalsy();
      const vmId = (created.structuredContent as { vm_id: string }).vm_id;
      const plain = (await mcp.callTool({
        name: "vm_create",
        arguments: { network: true },
      })) as CallToolResult;
      const plainId = (plain.structuredContent as { vm_id: string }).vm_id;
      for (const [id, allowed] of [
        [vmId, true],
        [plainId, false],
      ] as const) {
        const info = (await mcp.callTool({
          name: "vm_network_info",
          arguments: { vm_id: id },
        })) as CallToolResult;
        expect(info.structuredContent).toMatchObject({ policy: "egress", allow_private_egress: allowed });
        await mcp.callTool({ name: "vm_delete", arguments: { vm_id: id } });
      }
    } finally {
      await mcp.close();
    }
  });
});
