import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Pyro } from "../../src/surfaces/sdk/pyro.js";
import { runPyro } from "../helpers/cli.js";
import { connectMcp } from "../helpers/mcp-client.js";
import { processesMentioning } from "../helpers/processes.js";
import { useTempPyroHome } from "../helpers/pyro-home.js";
import { canCreateLab, createLab, type Lab } from "../fixtures/netns-lab.mjs";

const HTTP_SERVER = `perl -MIO::Socket::INET -e '$s=IO::Socket::INET->new(LocalAddr=>"127.0.0.1",LocalPort=>8080,Listen=>5,ReuseAddr=>1) or die "listen: $!"; $|=1; while($c=$s->accept){<$c>; print $c "HTTP/1.0 200 OK\\r\\n\\r\\nfrom the guest\\n"; close $c}'`;

// Every pyro process that starts a VM (CLI, MCP server) runs in a lab namespace pair; the SDK in
// this process only talks to running supervisors.
describe.skipIf(!canCreateLab())("forking a running and a paused workspace", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  let scratch: string;
  let lab: Lab;
  let ns: string[];
  let mcp: Client;
  let sdk: Pyro;
  let source: string;
  let shellId: string;
  let hostPort: number;
  const pyro = async (...args: string[]) => {
    const result = await runPyro(args, {}, ns);
    if (result.code !== 0) throw new Error(`pyro ${args.join(" ")}: ${result.stderr}`);
    return JSON.parse(result.stdout) as Record<string, unknown>;
  };
  const call = async (name: string, args: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const result = (await mcp.callTool({ name, arguments: args })) as CallToolResult;
    if (result.isError) throw new Error(`${name}: ${JSON.stringify(result.content)}`);
    return result.structuredContent as Record<string, unknown>;
  };
  const sh = async (id: string, command: string) =>
    (await sdk.execWorkspace({ workspaceId: id, command })).stdout.trim();
  const shellSays = async (id: string, input: string): Promise<string> => {
    const start = await sdk.readShell({ workspaceId: id, shellId, waitForIdleMs: 300 });
    await sdk.writeShell({ workspaceId: id, shellId, input });
    return (
      await sdk.readShell({
        workspaceId: id,
        shellId,
        cursor: start.next_cursor,
        waitForIdleMs: 800,
        plain: true,
      })
    ).output;
  };
  /** The pids listening on the host port in the lab namespace. */
  const portOwners = (): number[] =>
    execFileSync("ip", ["netns", "exec", lab.pyroNs, "ss", "-ltnpH"])
      .toString()
      .split("\n")
      .filter((line) => line.includes(`:${hostPort} `))
      .flatMap((line) => [...line.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1])));

  beforeAll(async () => {
    home = useTempPyroHome();
    scratch = mkdtempSync("/tmp/pyro-fork-");
    mkdirSync(join(scratch, "seed"));
    writeFileSync(join(scratch, "seed", "app.txt"), "v1\n");
    lab = await createLab();
    ns = ["ip", "netns", "exec", lab.pyroNs];
    sdk = new Pyro({ home: home.home });
    mcp = await connectMcp("workspace-full", ns);
    const created = await pyro(
      "workspace",
      "create",
      "debian:12",
      "--seed-path",
      join(scratch, "seed"),
      "--network-policy",
      "egress+published-ports",
      "--mem-mib",
      "512",
      "--json",
    );
    source = created.workspace_id as string;
    await sdk.writeWorkspaceFile({ workspaceId: source, path: "app.txt", text: "v2\n" });
    await sdk.createSnapshot({ workspaceId: source, snapshotName: "pre-fork" });
    await sdk.writeWorkspaceFile({ workspaceId: source, path: "late.txt", text: "after the snapshot\n" });
    shellId = (await sdk.openShell({ workspaceId: source })).shell_id;
    await shellSays(source, "FORKVAR=set-before-fork");
    hostPort = 18000 + Math.floor(Math.random() * 1000);
    await pyro(
      "workspace",
      "service",
      "start",
      source,
      "web",
      "--publish",
      `${hostPort}:8080`,
      "--ready-tcp",
      "127.0.0.1:8080",
      "--json",
      "--",
      HTTP_SERVER,
    );
  });
  afterAll(async () => {
    await mcp?.close();
    for (const ws of (await sdk.listWorkspaces()).workspaces)
      await runPyro(["workspace", "delete", ws.workspace_id], {}, ns);
    lab?.close();
    rmSync(scratch, { recursive: true, force: true });
    home.cleanup();
  });

  it("forks a running workspace (MCP): shared past, separate future, own identity, no published ports", async () => {
    const fork = await call("workspace_fork", { workspace_id: source, name: "child" });
    const id = fork.workspace_id as string;
    expect(fork).toMatchObject({
      forked_from: source,
      name: "child",
      state: "running",
      start_mode: "saved_state",
    });
    expect(fork.published_ports ?? []).toEqual([]);

    // What was there at the fork is in both: files, and the shell with its variable.
    for (const ws of [source, id]) {
      expect(await sh(ws, "cat app.txt late.txt")).toBe("v2\nafter the snapshot");
      expect(await shellSays(ws, 'echo "FORKVAR=$FORKVAR"')).toContain("FORKVAR=set-before-fork");
    }
    // Its own identity.
    const identity = "hostname; cat /etc/machine-id";
    const [sourceId, forkId] = [await sh(source, identity), await sh(id, identity)];
    expect(forkId.split("\n")[0]).toBe(`pyro-${id}`);
    expect(sourceId.split("\n")[0]).toBe(`pyro-${source}`);
    expect(forkId.split("\n")[1]).not.toBe(sourceId.split("\n")[1]);
    // Writes after the fork stay on their side, both ways (files and shell variables).
    await sh(source, "echo source > only-source.txt && echo source-edit > app.txt");
    await sh(id, "echo fork > only-fork.txt");
    await shellSays(id, "FORKVAR=changed-in-fork");
    expect(await sh(source, "ls; cat app.txt")).toMatch(/only-source\.txt[\s\S]*source-edit/);
    expect(await sh(source, "ls")).not.toContain("only-fork.txt");
    expect(await sh(id, "ls; cat app.txt")).toMatch(/only-fork\.txt[\s\S]*\nv2$/);
    expect(await sh(id, "ls")).not.toContain("only-source.txt");
    expect(await shellSays(source, 'echo "FORKVAR=$FORKVAR"')).toContain("FORKVAR=set-before-fork");

    // The published port stays with the source.
    const owners = portOwners();
    expect(owners.length).toBeGreaterThan(0);
    for (const pid of processesMentioning(id)) expect(owners).not.toContain(pid);
    expect((await sdk.statusWorkspace({ workspaceId: id })).published_ports ?? []).toEqual([]);

    // Baseline and snapshots came along: diff against the seed, reset to a snapshot from before the fork.
    const diff = await sdk.diffWorkspace({ workspaceId: id });
    expect(diff.changes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: "app.txt", status: "modified" }),
        expect.objectContaining({ path: "only-fork.txt", status: "added" }),
      ]),
    );
    expect(diff.changes.map((c) => c.path)).not.toContain("only-source.txt");
    expect((await sdk.listSnapshots({ workspaceId: id })).snapshots.map((s) => s.name)).toContain("pre-fork");
    const reset = await pyro("workspace", "reset", id, "--snapshot", "pre-fork", "--json");
    expect(reset.start_mode).toBe("template");
    const files = await sh(id, "cat app.txt; ls");
    expect(files).toMatch(/^v2\napp\.txt/);
    expect(files).not.toMatch(/late\.txt|only-fork\.txt/);
    expect(await sh(source, "cat late.txt")).toBe("after the snapshot"); // the source kept its files
    await call("workspace_delete", { workspace_id: id });
    expect(processesMentioning(id)).toEqual([]);
  });

  it("forks a paused workspace (CLI) without taking the source's published port", async () => {
    await pyro("workspace", "pause", source, "--json");
    const fork = await pyro("workspace", "fork", source, "--json");
    const id = fork.workspace_id as string;
    expect(fork).toMatchObject({ forked_from: source, state: "running", start_mode: "saved_state" });
    expect(fork.published_ports ?? []).toEqual([]);
    expect((await sdk.statusWorkspace({ workspaceId: source })).state).toBe("paused");
    expect(await sh(id, "cat only-source.txt")).toBe("source");
    expect(await shellSays(id, 'echo "FORKVAR=$FORKVAR"')).toContain("FORKVAR=set-before-fork");
    expect(await sh(id, "hostname")).toBe(`pyro-${id}`);

    const resumed = await pyro("workspace", "resume", source, "--json");
    expect(resumed).toMatchObject({ state: "running", start_mode: "saved_state" });
    const owners = portOwners();
    expect(owners.length).toBeGreaterThan(0);
    for (const pid of processesMentioning(id)) expect(owners).not.toContain(pid);
    expect(owners.some((pid) => processesMentioning(source).includes(pid))).toBe(true);
    await sdk.deleteWorkspace({ workspaceId: id });
    expect(processesMentioning(id)).toEqual([]);
  });
});
