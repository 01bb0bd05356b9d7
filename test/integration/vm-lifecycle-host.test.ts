import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execInVm } from "../../src/sandbox/vm/exec.js";
import { Pyro } from "../../src/surfaces/sdk/pyro.js";
import { PyroError } from "../../src/errors/index.js";
import { spawnPyro } from "../helpers/cli.js";
import { processesMentioning, waitFor } from "../helpers/processes.js";
import { sandboxDir, useTempPyroHome } from "../helpers/pyro-home.js";

let pyro: Pyro;
const hostVm = { environment: "debian:12", backend: "host", allowHostCompat: true } as const;

describe("VM lifecycle through the SDK (host-compat backend, real supervisor)", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  beforeAll(() => {
    home = useTempPyroHome();
    pyro = new Pyro({ home: home.home });
  });
  afterAll(() => home.cleanup());

  it("creates, starts, serves parallel commands from separate connections, stops and deletes", async () => {
    const created = await pyro.createVm(hostVm);
    expect(created.state).toBe("created");
    const started = await pyro.startVm({ vmId: created.vm_id });
    expect(started.state).toBe("running");
    expect(started.execution_mode).toBe("host_compat");

    const [slow, fast] = await Promise.all([
      execInVm(home.store(), created.vm_id, { command: "sleep 1; echo slow", timeoutSeconds: 10 }),
      execInVm(home.store(), created.vm_id, { command: ["echo", "fast"], timeoutSeconds: 10 }),
    ]);
    expect(slow.stdout).toBe("slow\n");
    expect(fast.stdout).toBe("fast\n");
    expect(fast.duration_ms).toBeLessThan(slow.duration_ms);

    const stopped = await pyro.stopVm({ vmId: created.vm_id });
    expect(stopped.state).toBe("stopped");
    expect(processesMentioning(created.vm_id)).toEqual([]);
    await expect(
      execInVm(home.store(), created.vm_id, { command: "true", timeoutSeconds: 5 }),
    ).rejects.toMatchObject({
      code: "VM_NOT_RUNNING",
    });

    expect((await pyro.startVm({ vmId: created.vm_id })).state).toBe("running");
    expect((await pyro.deleteVm({ vmId: created.vm_id })).deleted).toBe(true);
    expect(existsSync(sandboxDir(home.home, created.vm_id))).toBe(false);
    expect(processesMentioning(created.vm_id)).toEqual([]);
    await expect(pyro.statusVm({ vmId: created.vm_id })).rejects.toMatchObject({ code: "VM_NOT_FOUND" });
  });

  it("vm_exec runs one command and deletes the VM", async () => {
    const created = await pyro.createVm(hostVm);
    await pyro.startVm({ vmId: created.vm_id });
    // HOME is the sandbox's own, so shells never run the host user's rc files.
    const result = await pyro.execVm({ vmId: created.vm_id, command: 'echo once; echo "$HOME"' });
    expect(result.stdout).toMatch(
      new RegExp(`^once\n${sandboxDir(home.home, created.vm_id)}/vm/scratch/home\n$`),
    );
    expect(result.cleanup.deleted).toBe(true);
    await expect(pyro.statusVm({ vmId: created.vm_id })).rejects.toBeInstanceOf(PyroError);
  });

  it("stops a VM when its TTL runs out, and reap_expired deletes it", async () => {
    const created = await pyro.createVm({ ...hostVm, ttlSeconds: 2 });
    await pyro.startVm({ vmId: created.vm_id });
    expect(await waitFor(() => processesMentioning(created.vm_id).length === 0, 10_000)).toBe(true);
    expect((await pyro.statusVm({ vmId: created.vm_id })).state).toBe("expired");
    const reaped = await pyro.reapExpired();
    expect(reaped.reaped).toContainEqual({ vm_id: created.vm_id, reason: "ttl_expired", workspace: false });
    await expect(pyro.statusVm({ vmId: created.vm_id })).rejects.toMatchObject({ code: "VM_NOT_FOUND" });
  });

  it("leaves nothing behind when the CLI is killed with SIGKILL mid-run", async () => {
    const child = spawnPyro([
      "run",
      "debian:12",
      "--backend",
      "host",
      "--allow-host-compat",
      "--",
      "sleep 60",
    ]);
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    expect(await waitFor(() => stderr.includes("phase=execute"), 20_000)).toBe(true);
    const vmId = /vm_id=([0-9a-f]+)/.exec(stderr)?.[1] as string;
    expect(processesMentioning(vmId).length).toBeGreaterThan(0);
    child.kill("SIGKILL");
    await pyro.reapExpired();
    expect(await waitFor(() => processesMentioning(vmId).length === 0, 10_000)).toBe(true);
    await pyro.reapExpired();
    expect(existsSync(sandboxDir(home.home, vmId))).toBe(false);
  });

  it("refuses a network in host-compat mode, which cannot isolate one, and creates nothing", async () => {
    const before = (await pyro.listVms()).count;
    await expect(pyro.createVm({ ...hostVm, network: true })).rejects.toMatchObject({
      code: "NETWORK_UNAVAILABLE",
      hint: expect.stringContaining("guest backend"),
    });
    await expect(
      pyro.createWorkspace({ ...hostVm, networkPolicy: "egress+published-ports" }),
    ).rejects.toMatchObject({ code: "NETWORK_UNAVAILABLE" });
    expect((await pyro.listVms()).count).toBe(before);
  });

  it("reports unknown VMs and bad ids clearly", async () => {
    await expect(pyro.statusVm({ vmId: "000000000000" })).rejects.toMatchObject({ code: "VM_NOT_FOUND" });
    await expect(pyro.startVm({ vmId: "../../etc" })).rejects.toMatchObject({ code: "VM_NOT_FOUND" });
  });
});
