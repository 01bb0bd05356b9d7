import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Pyro } from "../../src/surfaces/sdk/pyro.js";
import { sandboxDir, useTempPyroHome } from "../helpers/pyro-home.js";

const HOST = { environment: "debian:12", backend: "host", allowHostCompat: true } as const;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe("two Pyro instances with different homes in one process (host-compat backend)", () => {
  // PYRO_HOME points at a third folder: neither store may touch it.
  let decoy: ReturnType<typeof useTempPyroHome>;
  let homes: string[];
  let a: Pyro;
  let b: Pyro;
  beforeAll(() => {
    decoy = useTempPyroHome();
    homes = [mkdtempSync(join("/tmp", "pyro-a-")), mkdtempSync(join("/tmp", "pyro-b-"))];
    a = new Pyro({ home: homes[0] as string });
    b = new Pyro({ home: homes[1] as string });
  });
  afterAll(() => {
    decoy.cleanup();
    for (const home of homes) rmSync(home, { recursive: true, force: true });
  });

  it("keeps workspaces and VMs apart: create, list, exec, status and reap each see only their own", async () => {
    const wa = await a.createWorkspace({ ...HOST, name: "in-a" });
    const wb = await b.createWorkspace({ ...HOST, name: "in-b", ttlSeconds: 1 });
    const va = await a.createVm({ ...HOST, ttlSeconds: 1 });
    const vb = await b.createVm(HOST);
    try {
      expect(existsSync(sandboxDir(homes[0] as string, wa.workspace_id))).toBe(true);
      expect(existsSync(sandboxDir(homes[1] as string, wa.workspace_id))).toBe(false);
      expect(existsSync(join(decoy.home, "sandboxes"))).toBe(false);

      const listed = async (pyro: Pyro) => ({
        workspaces: (await pyro.listWorkspaces()).workspaces.map((w) => w.workspace_id),
        vms: (await pyro.listVms()).vms.map((v) => v.vm_id),
      });
      expect(await listed(a)).toEqual({ workspaces: [wa.workspace_id], vms: [va.vm_id] });
      expect(await listed(b)).toEqual({ workspaces: [wb.workspace_id], vms: [vb.vm_id] });

      const ran = await a.execWorkspace({ workspaceId: wa.workspace_id, command: "echo a" });
      expect(ran.stdout).toBe("a\n");
      await expect(b.statusWorkspace({ workspaceId: wa.workspace_id })).rejects.toMatchObject({
        code: "WORKSPACE_NOT_FOUND",
      });
      // A plain VM's id names no workspace, in its own store either.
      await expect(a.statusWorkspace({ workspaceId: va.vm_id })).rejects.toMatchObject({
        code: "WORKSPACE_NOT_FOUND",
      });

      await sleep(1_200); // va (in a) and wb (in b) are now past their TTL
      const reapedA = await a.reapExpired();
      expect(reapedA.reaped).toEqual([{ vm_id: va.vm_id, reason: "ttl_expired", workspace: false }]);
      // A workspace is never reaped for its TTL (an idle one stops, its data stays).
      const reapedB = await b.reapExpired();
      expect(reapedB.reaped).toEqual([]);
      expect(await listed(a)).toEqual({ workspaces: [wa.workspace_id], vms: [] });
      expect(await listed(b)).toEqual({ workspaces: [wb.workspace_id], vms: [vb.vm_id] });
      expect(existsSync(join(decoy.home, "sandboxes"))).toBe(false);
    } finally {
      await a.deleteWorkspace({ workspaceId: wa.workspace_id });
      await b.deleteWorkspace({ workspaceId: wb.workspace_id }).catch(() => undefined);
    }
    expect(existsSync(sandboxDir(homes[0] as string, wa.workspace_id))).toBe(false);
  });

  it("reads past the earlier layout and damaged records: list and reap work, status names the damage", async () => {
    const home = mkdtempSync(join("/tmp", "pyro-c-"));
    homes.push(home);
    // What an earlier pyro left: a VM under vms/, a workspace's VM under workspaces/<id>/vm.
    for (const dir of [join(home, "vms", "0123456789ab"), join(home, "workspaces", "ba9876543210", "vm")]) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "vm.json"), JSON.stringify({ schema: 1, id: "old" }));
    }
    const store = new Pyro({ home });
    const kept = await store.createVm(HOST);
    const damaged = "00000000000d";
    mkdirSync(sandboxDir(home, damaged));
    writeFileSync(
      join(sandboxDir(home, damaged), "sandbox.json"),
      '{"schema": 2, "id": "00000000000d", "sta',
    );

    expect((await store.listVms()).vms.map((vm) => vm.vm_id)).toEqual([kept.vm_id]);
    expect((await store.listWorkspaces()).count).toBe(0);
    expect((await store.reapExpired()).count).toBe(0);
    await expect(store.statusVm({ vmId: damaged })).rejects.toMatchObject({
      code: "STATE_CORRUPT",
      message: expect.stringContaining(join(sandboxDir(home, damaged), "sandbox.json")),
    });
    await expect(store.statusVm({ vmId: "0123456789ab" })).rejects.toMatchObject({
      code: "VM_NOT_FOUND",
    });
    // Nothing of the earlier layout was touched.
    expect(readdirSync(join(home, "vms"))).toEqual(["0123456789ab"]);
    expect(existsSync(join(home, "workspaces", "ba9876543210", "vm", "vm.json"))).toBe(true);
  });
});
