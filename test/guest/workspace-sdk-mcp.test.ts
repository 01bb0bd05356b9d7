import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Pyro } from "../../src/surfaces/sdk/pyro.js";
import { connectMcp } from "../helpers/mcp-client.js";
import { processesMentioning } from "../helpers/processes.js";
import { useTempPyroHome } from "../helpers/pyro-home.js";
import { installedGuestKernel } from "./guest-env.js";

const PATCH = "--- a/app.txt\n+++ b/app.txt\n@@ -1 +1 @@\n-v1\n+v2\n";

describe("workspaces in a real microVM through the SDK and MCP", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  let scratch: string;
  let seed: string;
  beforeAll(() => {
    home = useTempPyroHome();
    scratch = mkdtempSync("/tmp/pyro-wsm-");
    seed = join(scratch, "seed");
    mkdirSync(seed);
    writeFileSync(join(seed, "app.txt"), "v1\n");
  });
  afterAll(() => {
    rmSync(scratch, { recursive: true, force: true });
    home.cleanup();
  });

  it("walks create → write → patch → exec → snapshot → reset → export → diff → delete with the SDK", async () => {
    const pyro = new Pyro();
    const guestKernel = await installedGuestKernel();
    const ws = await pyro.createWorkspace({ seedPath: seed, memMib: 512 });
    const id = ws.workspace_id;
    expect(ws).toMatchObject({
      state: "running",
      execution_mode: "guest_serial",
      seed: { mode: "directory", entry_count: 1 },
    });
    await pyro.writeWorkspaceFile({ workspaceId: id, path: "/workspace/docs/a.md", text: "# doc\n" });
    expect((await pyro.applyWorkspacePatch({ workspaceId: id, patch: PATCH })).modified).toBe(1);
    const run = await pyro.execWorkspace({ workspaceId: id, command: ["sh", "-c", "cat app.txt; uname -r"] });
    expect(run.stdout).toBe(`v2\n${guestKernel}\n`);
    expect(run.sequence).toBe(1);
    await pyro.createSnapshot({ workspaceId: id, snapshotName: "v2" });
    expect((await pyro.listSnapshots({ workspaceId: id })).snapshots.map((s) => s.name)).toEqual(["v2"]);
    await pyro.execWorkspace({ workspaceId: id, command: "echo v3 > app.txt" });
    await pyro.resetWorkspace({ workspaceId: id, snapshot: "v2" });
    expect((await pyro.readWorkspaceFile({ workspaceId: id, path: "app.txt" })).content).toBe("v2\n");
    const out = join(scratch, "app-out.txt");
    await pyro.exportWorkspace({ workspaceId: id, path: "app.txt", outputPath: out });
    expect(readFileSync(out, "utf8")).toBe("v2\n");
    const diff = await pyro.diffWorkspace({ workspaceId: id });
    expect(diff.summary).toMatchObject({ total: 2, added: 1, modified: 1, deleted: 0 });
    await pyro.resetWorkspace({ workspaceId: id });
    expect((await pyro.readWorkspaceFile({ workspaceId: id, path: "app.txt" })).content).toBe("v1\n");
    await pyro.deleteSnapshot({ workspaceId: id, snapshotName: "v2" });
    await pyro.deleteWorkspace({ workspaceId: id });
    expect(processesMentioning(id)).toEqual([]);
  });

  it("does the same operations as MCP tools of the default workspace-core profile", async () => {
    const client: Client = await connectMcp(null, [], { cwd: scratch }); // its host paths live under scratch
    try {
      const call = async (name: string, args: Record<string, unknown>): Promise<Record<string, unknown>> => {
        const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
        if (result.isError) throw new Error(`${name}: ${JSON.stringify(result.content)}`);
        return result.structuredContent as Record<string, unknown>;
      };
      const names = (await client.listTools()).tools.map((tool) => tool.name);
      expect(names).toContain("workspace_create");
      expect(names).not.toContain("snapshot_create");
      const created = await call("workspace_create", { seed_path: seed, mem_mib: 512, name: "mcp" });
      const id = created.workspace_id as string;
      await call("workspace_patch_apply", { workspace_id: id, patch: PATCH });
      const exec = await call("workspace_exec", { workspace_id: id, command: "cat app.txt" });
      expect(exec).toMatchObject({ stdout: "v2\n", exit_code: 0, sequence: 1 });
      const read = await call("workspace_file_read", { workspace_id: id, path: "app.txt" });
      expect(read).toMatchObject({ content: "v2\n", truncated: false, encoding: "utf8" });
      const diff = await call("workspace_diff", { workspace_id: id });
      expect(diff.summary).toMatchObject({ modified: 1, total: 1 });
      const out = join(scratch, "mcp-out.txt");
      await call("workspace_export", { workspace_id: id, path: "app.txt", output_path: out });
      expect(readFileSync(out, "utf8")).toBe("v2\n");
      await call("workspace_reset", { workspace_id: id });
      const list = await call("workspace_list", {});
      expect((list.workspaces as Array<{ workspace_id: string }>)[0]?.workspace_id).toBe(id);
      const bad = (await client.callTool({
        name: "workspace_file_read",
        arguments: { workspace_id: id, path: "../../etc/shadow" },
      })) as CallToolResult;
      expect(bad.structuredContent).toMatchObject({ error: { code: "PATH_OUTSIDE_WORKSPACE" } });
      await call("workspace_delete", { workspace_id: id });
      expect(processesMentioning(id)).toEqual([]);
    } finally {
      await client.close();
    }
  });
});
