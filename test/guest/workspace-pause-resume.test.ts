import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Pyro } from "../../src/surfaces/sdk/pyro.js";
import { runPyro } from "../helpers/cli.js";
import { httpGetIn, pyroWith } from "../helpers/lab-cli.js";
import { processesMentioning, waitFor } from "../helpers/processes.js";
import { sandboxDir, useTempPyroHome } from "../helpers/pyro-home.js";
import { canCreateLab, createLab, type Lab } from "../fixtures/netns-lab.mjs";
import { installedGuestKernel } from "./guest-env.js";

const HTTP_SERVER = `perl -MIO::Socket::INET -e '$s=IO::Socket::INET->new(LocalAddr=>"127.0.0.1",LocalPort=>8080,Listen=>5,ReuseAddr=>1) or die "listen: $!"; $|=1; while($c=$s->accept){<$c>; print $c "HTTP/1.0 200 OK\\r\\n\\r\\nfrom the guest\\n"; close $c}'`;

// Every pyro process that starts a VM runs in a lab namespace pair: egress cannot leave the
// machine, and the published port lives on the namespace's loopback.
describe.skipIf(!canCreateLab())("pause, kill everything, resume from another process", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  let lab: Lab;
  let ns: string[];
  let id: string | null = null;
  const pyro = (...args: string[]) => pyroWith(ns, args);
  const httpGet = (port: number) => httpGetIn(lab.pyroNs, port);

  beforeAll(async () => {
    home = useTempPyroHome();
    lab = await createLab();
    ns = ["ip", "netns", "exec", lab.pyroNs];
  });
  afterAll(async () => {
    if (id !== null) await runPyro(["workspace", "delete", id], {}, ns);
    lab?.close();
    home.cleanup();
  });

  it("brings back the same shell, cursor, variables, processes, service and published port", async () => {
    const guestKernel = await installedGuestKernel();
    const created = await pyro(
      "workspace",
      "create",
      "debian:12",
      "--network-policy",
      "egress+published-ports",
      "--mem-mib",
      "512",
      "--json",
    );
    expect(created.code).toBe(0);
    id = created.json().workspace_id as string;
    expect(created.json().start_mode).toBe("template");

    // The SDK only talks to the running supervisor here (it starts no VM outside the namespace).
    const sdk = new Pyro({ home: home.home });
    const shell = await sdk.openShell({ workspaceId: id });
    const opened = await sdk.readShell({ workspaceId: id, shellId: shell.shell_id, waitForIdleMs: 800 });
    await sdk.writeShell({
      workspaceId: id,
      shellId: shell.shell_id,
      input: "KEPT=across-the-pause; sleep 1000 & echo BG=$!; uname -r",
    });
    const before = await sdk.readShell({
      workspaceId: id,
      shellId: shell.shell_id,
      cursor: opened.next_cursor,
      waitForIdleMs: 1000,
      plain: true,
    });
    const pid = /BG=(\d+)/.exec(before.output)?.[1];
    expect(pid).toBeDefined();
    expect(before.output).toContain(guestKernel);

    const hostPort = 18000 + Math.floor(Math.random() * 1000);
    const service = await pyro(
      "workspace",
      "service",
      "start",
      id,
      "web",
      "--publish",
      `${hostPort}:8080`,
      "--ready-http",
      "http://127.0.0.1:8080/",
      "--json",
      "--",
      HTTP_SERVER,
    );
    expect(service.code).toBe(0);
    expect(httpGet(hostPort)).toBe("from the guest\n");

    const paused = await sdk.pauseWorkspace({ workspaceId: id });
    expect(paused).toMatchObject({ workspace_id: id, state: "paused" });
    expect(paused.saved_bytes).toBeGreaterThan(0);
    // The pause ended the VMM and the supervisor; anything still alive is killed, as a reboot would.
    await waitFor(() => processesMentioning(id!).length === 0, 5000);
    const leftovers = processesMentioning(id);
    for (const leftover of leftovers) process.kill(leftover, "SIGKILL");
    expect(leftovers).toEqual([]);
    expect(existsSync(`${sandboxDir(home.home, id)}/paused/manifest.json`)).toBe(true);
    expect(httpGet(hostPort)).toBe("REFUSED");

    // Paused on every view, and refused by operations that need the guest.
    expect((await pyro("workspace", "status", id, "--json")).json().state).toBe("paused");
    const listed = (await pyro("workspace", "list", "--json")).json() as unknown as {
      workspaces: Array<{ workspace_id: string; state: string }>;
    };
    expect(listed.workspaces.find((w) => w.workspace_id === id)?.state).toBe("paused");
    expect((await sdk.statusWorkspace({ workspaceId: id })).state).toBe("paused");
    await expect(sdk.execWorkspace({ workspaceId: id, command: "true" })).rejects.toMatchObject({
      code: "WORKSPACE_PAUSED",
    });
    await expect(sdk.readShell({ workspaceId: id, shellId: shell.shell_id })).rejects.toMatchObject({
      code: "WORKSPACE_PAUSED",
    });
    const refused = await pyro("workspace", "exec", id, "--", "true");
    expect(refused.code).toBe(68);
    expect(refused.stderr).toContain("WORKSPACE_PAUSED");
    expect(processesMentioning(id)).toEqual([]);

    // Resumed by a new process: the CLI.
    const resumed = await pyro("workspace", "resume", id, "--json");
    expect(resumed.code).toBe(0);
    expect(resumed.json()).toMatchObject({ workspace_id: id, state: "running", start_mode: "saved_state" });
    expect(existsSync(`${sandboxDir(home.home, id)}/paused`)).toBe(false);

    const fresh = new Pyro({ home: home.home });
    // The cursor from before the pause is still valid: it reads on from there.
    await fresh.writeShell({
      workspaceId: id,
      shellId: shell.shell_id,
      input: `echo "KEPT=$KEPT"; kill -0 ${pid} && echo ALIVE=$(cat /proc/${pid}/cmdline | tr '\\0' ' ')`,
    });
    const after = await fresh.readShell({
      workspaceId: id,
      shellId: shell.shell_id,
      cursor: before.next_cursor,
      waitForIdleMs: 1000,
      plain: true,
    });
    expect(after.cursor).toBe(before.next_cursor);
    expect(after.output).toContain("KEPT=across-the-pause");
    expect(after.output).toContain("ALIVE=sleep 1000");
    expect(await fresh.statusService({ workspaceId: id, serviceName: "web" })).toMatchObject({
      state: "running",
      ready: true,
    });
    expect(httpGet(hostPort)).toBe("from the guest\n");
    const status = (await pyro("workspace", "status", id, "--json")).json();
    expect(status).toMatchObject({ state: "running", start_mode: "saved_state" });

    expect((await pyro("workspace", "delete", id)).code).toBe(0);
    expect(processesMentioning(id)).toEqual([]);
    id = null;
  });
});
