import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { closeSync, openSync, readdirSync, readSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Pyro } from "../../src/surfaces/sdk/pyro.js";
import { connectMcp } from "../helpers/mcp-client.js";
import { processesMentioning } from "../helpers/processes.js";
import { sandboxDir, useTempPyroHome } from "../helpers/pyro-home.js";

/** Inverts one byte in the middle of a file (again: puts it back). */
function flipByte(path: string): void {
  const fd = openSync(path, "r+");
  try {
    const at = Math.floor(statSync(path).size / 2);
    const byte = Buffer.alloc(1);
    readSync(fd, byte, 0, 1, at);
    byte[0] = byte[0]! ^ 0xff;
    writeSync(fd, byte, 0, 1, at);
  } finally {
    closeSync(fd);
  }
}

describe("resuming a paused workspace whose saved state was changed", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  let pyro: Pyro;
  let mcp: Client;
  let id: string | null = null;
  const call = async (name: string, args: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const result = (await mcp.callTool({ name, arguments: args })) as CallToolResult;
    if (result.isError) throw new Error(`${name}: ${JSON.stringify(result.content)}`);
    return result.structuredContent as Record<string, unknown>;
  };

  beforeAll(async () => {
    home = useTempPyroHome();
    // A cold boot costs less than making a template for one VM, and pauses the same way.
    pyro = new Pyro({ home: home.home, templates: false });
    mcp = await connectMcp("workspace-full");
  });
  afterAll(async () => {
    await mcp?.close();
    // Every workspace of this home, forks included, even when a case failed half-way.
    for (const ws of (await pyro.listWorkspaces()).workspaces)
      await pyro.deleteWorkspace({ workspaceId: ws.workspace_id }).catch(() => undefined);
    home.cleanup();
  });

  it("refuses a flipped byte in the VMM state or the workspace disk, runs nothing, and resumes once it is put back", async () => {
    const created = await pyro.createWorkspace({ memMib: 512 });
    id = created.workspace_id;
    expect(created.start_mode).toBe("cold");
    await pyro.execWorkspace({ workspaceId: id, command: "echo kept > /workspace/kept.txt" });
    expect(await call("workspace_pause", { workspace_id: id })).toMatchObject({ state: "paused" });
    expect(processesMentioning(id)).toEqual([]);
    const refused = (await mcp.callTool({
      name: "workspace_exec",
      arguments: { workspace_id: id, command: "true" },
    })) as CallToolResult;
    expect(refused.isError).toBe(true);
    expect(refused.structuredContent).toMatchObject({ error: { code: "WORKSPACE_PAUSED" } });

    const paused = join(sandboxDir(home.home, id), "paused");
    const vmmState = join(paused, "vmm.state");
    const workspaceDisk = join(sandboxDir(home.home, id), "workspace.qcow2");
    for (const tampered of [vmmState, workspaceDisk]) {
      flipByte(tampered);
      await expect(pyro.resumeWorkspace({ workspaceId: id })).rejects.toMatchObject({
        code: "SAVED_STATE_INVALID",
      });
      expect(processesMentioning(id)).toEqual([]);
      expect((await pyro.statusWorkspace({ workspaceId: id })).state).toBe("paused");
      flipByte(tampered);
    }

    const resumed = await call("workspace_resume", { workspace_id: id });
    expect(resumed).toMatchObject({ workspace_id: id, state: "running", start_mode: "saved_state" });
    const read = await pyro.execWorkspace({ workspaceId: id, command: "cat /workspace/kept.txt" });
    expect(read.stdout).toBe("kept\n");
  });

  it("refuses to fork a paused workspace whose saved state was changed", async () => {
    if (id === null) throw new Error("the first case made no workspace");
    await pyro.pauseWorkspace({ workspaceId: id });
    const vmmState = join(sandboxDir(home.home, id), "paused", "vmm.state");
    flipByte(vmmState);
    const sandboxes = () => readdirSync(join(home.home, "sandboxes")).sort();
    const before = sandboxes();
    await expect(pyro.forkWorkspace({ workspaceId: id })).rejects.toMatchObject({
      code: "SAVED_STATE_INVALID",
    });
    expect(sandboxes()).toEqual(before); // no half-made fork left behind
    flipByte(vmmState);
  });
});
