import { setTimeout as sleep } from "node:timers/promises";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SandboxStore } from "../../src/sandbox/store.js";
import { supervisorControl } from "../../src/sandbox/supervisor-client.js";
import { Pyro } from "../../src/surfaces/sdk/pyro.js";
import { runPyro } from "../helpers/cli.js";
import { connectMcp } from "../helpers/mcp-client.js";
import { processesMentioning, waitFor } from "../helpers/processes.js";
import { useTempPyroHome } from "../helpers/pyro-home.js";

const HOST = { backend: "host", allowHostCompat: true } as const;
const TTL_S = 3;

describe("a workspace's TTL counts from activity (host-compat backend)", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  let pyro: Pyro;
  const created: string[] = [];

  beforeAll(() => {
    home = useTempPyroHome();
    pyro = new Pyro({ home: home.home });
  });
  afterAll(async () => {
    for (const id of created) await pyro.deleteWorkspace({ workspaceId: id }).catch(() => undefined);
    home.cleanup();
  });

  const workspace = async (): Promise<string> => {
    const id = (await pyro.createWorkspace({ ...HOST, ttlSeconds: TTL_S })).workspace_id;
    created.push(id);
    return id;
  };
  const expiresAt = async (id: string): Promise<number> =>
    Date.parse((await pyro.statusWorkspace({ workspaceId: id })).expires_at ?? "");

  it("does not expire while used, expires when idle, is not reaped, and starts again with its data", async () => {
    const id = await workspace();
    const createdAt = Date.now();
    await pyro.writeWorkspaceFile({ workspaceId: id, path: "kept.txt", text: "still here\n" });
    // Activity for twice the TTL: one request a second.
    while (Date.now() - createdAt < 2 * TTL_S * 1000) {
      expect((await pyro.execWorkspace({ workspaceId: id, command: "true" })).exit_code).toBe(0);
      await sleep(1_000);
    }
    const status = await pyro.statusWorkspace({ workspaceId: id });
    expect(status.state).toBe("running");
    // Shown as the last activity plus the TTL (kept by the supervisor at most a second behind).
    const shown = Date.parse(status.expires_at ?? "");
    expect(shown).toBeGreaterThan(createdAt + 2 * TTL_S * 1000);
    expect(shown).toBeLessThanOrEqual(Date.now() + TTL_S * 1000);

    // Asking for the deadline is not activity: the workspace still idles out.
    const asked = await supervisorControl(new SandboxStore({ home: home.home }), id).deadline();
    expect(asked.idle_ttl_ms).toBe(TTL_S * 1000);
    const idleFrom = Date.now();
    const stopped = await waitFor(
      () => {
        void supervisorControl(new SandboxStore({ home: home.home }), id)
          .deadline()
          .catch(() => undefined);
        return processesMentioning(id).length === 0;
      },
      (TTL_S + 5) * 1000,
      250,
    );
    expect(stopped).toBe(true);
    expect(Date.now() - idleFrom).toBeGreaterThanOrEqual(TTL_S * 1000 - 1_500);
    const after = await pyro.statusWorkspace({ workspaceId: id });
    expect(after).toMatchObject({ state: "expired" });
    expect(after.ended).toMatch(/ttl expired.*no activity for 3 s/);

    expect((await pyro.reapExpired()).reaped).toEqual([]);
    const started = await pyro.startWorkspace({ workspaceId: id });
    expect(started.state).toBe("running");
    expect(Date.parse(started.expires_at ?? "")).toBeGreaterThan(Date.now());
    expect((await pyro.readWorkspaceFile({ workspaceId: id, path: "kept.txt" })).content).toBe(
      "still here\n",
    );
  }, 40_000);

  it("`workspace update --ttl-seconds` extends a running workspace's TTL at once", async () => {
    const id = await workspace();
    const cli = await runPyro(["workspace", "update", id, "--ttl-seconds", "60", "--json"], {
      PYRO_HOME: home.home,
    });
    expect(cli.stderr).toBe("");
    expect(cli.code).toBe(0);
    const updated = JSON.parse(cli.stdout) as { ttl_seconds: number; expires_at: string };
    expect(updated.ttl_seconds).toBe(60);
    expect(Date.parse(updated.expires_at)).toBeGreaterThan(Date.now() + 50_000);
    await sleep((TTL_S + 2) * 1000); // idle past the old TTL
    expect((await pyro.statusWorkspace({ workspaceId: id })).state).toBe("running");
    expect(await expiresAt(id)).toBeGreaterThan(Date.now() + 40_000);
    // The MCP tool takes it too.
    const mcp = await connectMcp("workspace-core", [], { env: { PYRO_HOME: home.home } });
    try {
      const result = (await mcp.callTool({
        name: "workspace_update",
        arguments: { workspace_id: id, ttl_seconds: 120 },
      })) as CallToolResult;
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toMatchObject({ workspace_id: id, ttl_seconds: 120 });
    } finally {
      await mcp.close();
    }
    expect(await expiresAt(id)).toBeGreaterThan(Date.now() + 100_000);
    // The SDK sets it back down; the running VM follows.
    const shorter = await pyro.updateWorkspace({ workspaceId: id, ttlSeconds: 1 });
    expect(shorter.ttl_seconds).toBe(1);
    expect(await waitFor(() => processesMentioning(id).length === 0, 6_000)).toBe(true);
    expect((await pyro.statusWorkspace({ workspaceId: id })).state).toBe("expired");
  }, 30_000);

  it("leaves a plain VM's TTL fixed from creation: activity does not extend it, and it is reaped", async () => {
    const vm = await pyro.createVm({ ...HOST, environment: "debian:12", ttlSeconds: TTL_S });
    await pyro.startVm({ vmId: vm.vm_id });
    const fixed = Date.parse(vm.expires_at);
    // Control requests are activity for a workspace's supervisor; a plain VM's expiry stays put.
    const control = supervisorControl(new SandboxStore({ home: home.home }), vm.vm_id);
    const ran = async (): Promise<boolean> =>
      control.list().then(
        () => true,
        () => false,
      );
    while (Date.now() < fixed - 500) {
      expect(await ran()).toBe(true);
      await sleep(500);
    }
    expect((await control.deadline()).idle_ttl_ms).toBeNull();
    expect(await waitFor(() => processesMentioning(vm.vm_id).length === 0, 5_000)).toBe(true);
    expect(Date.now()).toBeLessThan(fixed + 4_000);
    const status = await pyro.statusVm({ vmId: vm.vm_id });
    expect(status).toMatchObject({ state: "expired", expires_at: vm.expires_at });
    expect((await pyro.reapExpired()).reaped).toEqual([
      { vm_id: vm.vm_id, reason: "ttl_expired", workspace: false },
    ]);
  }, 30_000);
});
