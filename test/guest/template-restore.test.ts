import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { release } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Pyro } from "../../src/surfaces/sdk/pyro.js";
import { runPyro } from "../helpers/cli.js";
import { connectMcp } from "../helpers/mcp-client.js";
import { processesMentioning } from "../helpers/processes.js";
import { useTempPyroHome } from "../helpers/pyro-home.js";
import { installedGuestKernel } from "./guest-env.js";

const MEM_MIB = 512;

// Everything a restored guest must not share with another restore of the same memory image.
const IDENTITY = [
  "head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n'; echo",
  "cat /proc/sys/kernel/random/uuid",
  "hostname",
  "cat /etc/machine-id",
  "uname -r",
].join("; ");

interface Identity {
  random: string;
  uuid: string;
  hostname: string;
  machineId: string;
  kernel: string;
}

function parseIdentity(stdout: string): Identity {
  const [random, uuid, hostname, machineId, kernel] = stdout.trim().split("\n");
  if (kernel === undefined) throw new Error(`unexpected identity output: ${stdout}`);
  return { random: random!, uuid: uuid!, hostname: hostname!, machineId: machineId!, kernel };
}

describe("sandboxes restored from one memory template", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  let pyro: Pyro;
  let template: { name: string; created_at: string };
  const workspaces: string[] = [];

  beforeAll(async () => {
    home = useTempPyroHome();
    pyro = new Pyro({ home: home.home });
    const warmed = await runPyro(["env", "warm", "debian:12", "--mem-mib", String(MEM_MIB), "--json"]);
    if (warmed.code !== 0)
      throw new Error(`env warm failed (${warmed.code}): ${warmed.stdout} ${warmed.stderr}`);
    template = JSON.parse(warmed.stdout) as typeof template;
  });
  afterAll(async () => {
    for (const id of workspaces) await pyro.deleteWorkspace({ workspaceId: id }).catch(() => undefined);
    home.cleanup();
  });

  it("env warm makes a template that env inspect lists on the CLI, the SDK and MCP", async () => {
    expect(template).toMatchObject({
      environment: "debian:12",
      mem_mib: MEM_MIB,
      vcpu_count: 1,
      network: false,
      driver: "qemu",
      stale: false,
    });
    const cli = await runPyro(["env", "inspect", "debian:12", "--json"]);
    expect(cli.code).toBe(0);
    const cliNames = (JSON.parse(cli.stdout) as { templates: Array<{ name: string }> }).templates.map(
      (t) => t.name,
    );
    expect(cliNames).toEqual([template.name]);

    const sdk = await pyro.inspectEnvironment({ environment: "debian:12" });
    expect("templates" in sdk && sdk.templates.map((t) => t.name)).toEqual([template.name]);

    const mcp: Client = await connectMcp("workspace-full");
    try {
      const call = async (name: string, args: Record<string, unknown>): Promise<Record<string, unknown>> => {
        const result = (await mcp.callTool({ name, arguments: args })) as CallToolResult;
        if (result.isError) throw new Error(`${name}: ${JSON.stringify(result.content)}`);
        return result.structuredContent as Record<string, unknown>;
      };
      // Warming an existing template finds it: the same one, not a second.
      const warmed = await call("env_warm", { environment: "debian:12", mem_mib: MEM_MIB });
      expect(warmed).toMatchObject({ name: template.name, created_at: template.created_at });
      const inspected = await call("env_inspect", { environment: "debian:12" });
      expect((inspected.templates as Array<{ name: string }>).map((t) => t.name)).toEqual([template.name]);
    } finally {
      await mcp.close();
    }
  });

  it("gives two restored workspaces their own entropy, uuid, hostname, machine id, clock and disks", async () => {
    const guestKernel = await installedGuestKernel();
    const a = await pyro.createWorkspace({ memMib: MEM_MIB, name: "restore-a" });
    workspaces.push(a.workspace_id);
    const b = await pyro.createWorkspace({ memMib: MEM_MIB, name: "restore-b" });
    workspaces.push(b.workspace_id);
    for (const ws of [a, b]) {
      expect(ws.start_mode).toBe("template");
      expect((await pyro.statusWorkspace({ workspaceId: ws.workspace_id })).start_mode).toBe("template");
    }

    const [ia, ib] = await Promise.all(
      [a, b].map(async (ws) =>
        parseIdentity((await pyro.execWorkspace({ workspaceId: ws.workspace_id, command: IDENTITY })).stdout),
      ),
    );
    for (const [identity, ws] of [
      [ia!, a],
      [ib!, b],
    ] as const) {
      expect(identity.kernel).toBe(guestKernel); // it ran in the guest
      expect(identity.kernel).not.toBe(release());
      expect(identity.random).toMatch(/^[0-9a-f]{64}$/);
      expect(identity.uuid).toMatch(/^[0-9a-f-]{36}$/);
      expect(identity.hostname).toBe(`pyro-${ws.workspace_id}`);
      expect(identity.machineId).toMatch(/^[0-9a-f]{32}$/);
    }
    expect(ia!.random).not.toBe(ib!.random);
    expect(ia!.uuid).not.toBe(ib!.uuid);
    expect(ia!.hostname).not.toBe(ib!.hostname);
    expect(ia!.machineId).not.toBe(ib!.machineId);

    // The template's clock stopped when it was saved: make sure a stale clock would show.
    const age = Date.now() - Date.parse(template.created_at);
    if (age < 3000) await new Promise((resolve) => setTimeout(resolve, 3000 - age));
    for (const ws of [a, b]) {
      const before = Date.now();
      const run = await pyro.execWorkspace({ workspaceId: ws.workspace_id, command: "date +%s.%N" });
      const after = Date.now();
      const guestMs = Number(run.stdout.trim()) * 1000;
      expect(guestMs).toBeGreaterThan(before - 1000);
      expect(guestMs).toBeLessThan(after + 1000);
    }

    // Each has its own root disk overlay and its own /workspace disk.
    const write = (id: string, tag: string) =>
      pyro.execWorkspace({
        workspaceId: id,
        command: `echo ${tag} > /root/${tag} && echo ${tag} > /workspace/${tag} && sync`,
      });
    const look = async (id: string, tag: string) =>
      (
        await pyro.execWorkspace({
          workspaceId: id,
          command: `cat /root/${tag} /workspace/${tag} 2>/dev/null | wc -l`,
        })
      ).stdout.trim();
    await write(a.workspace_id, "only-a");
    await write(b.workspace_id, "only-b");
    expect(await look(a.workspace_id, "only-a")).toBe("2");
    expect(await look(b.workspace_id, "only-a")).toBe("0");
    expect(await look(b.workspace_id, "only-b")).toBe("2");
    expect(await look(a.workspace_id, "only-b")).toBe("0");
  });

  it("restores a one-shot `pyro run` from the same template, with its own identity", async () => {
    const run = await runPyro([
      "run",
      "debian:12",
      "--mem-mib",
      String(MEM_MIB),
      "--json",
      "--",
      "sh",
      "-c",
      IDENTITY,
    ]);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as {
      start_mode: string;
      cold_reason: string | null;
      start_timings: Record<string, number> | null;
      stdout: string;
      vm_id: string;
    };
    expect(result).toMatchObject({ start_mode: "template", cold_reason: null });
    expect(result.start_timings?.total_ms).toBeGreaterThan(0);
    const identity = parseIdentity(result.stdout);
    expect(identity.kernel).not.toBe(release());
    expect(identity.hostname).toBe(`pyro-${result.vm_id}`);
    expect(processesMentioning(result.vm_id)).toEqual([]);
    // Same template as the workspaces: none was made for the run.
    const inspected = await pyro.inspectEnvironment({ environment: "debian:12" });
    expect("templates" in inspected && inspected.templates.length).toBe(1);
  });
});
