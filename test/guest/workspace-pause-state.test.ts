import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Pyro } from "../../src/surfaces/sdk/pyro.js";
import { processesMentioning, waitFor } from "../helpers/processes.js";
import { useTempPyroHome } from "../helpers/pyro-home.js";
import { installedGuestKernel } from "./guest-env.js";

// A tiny HTTP server from perl-base, which every Debian has.
const HTTP_SERVER = `perl -MIO::Socket::INET -e '$s=IO::Socket::INET->new(LocalAddr=>"0.0.0.0",LocalPort=>$ARGV[0],Listen=>5,ReuseAddr=>1) or die "listen: $!"; print "listening\\n"; $|=1; while($c=$s->accept){<$c>; print $c "HTTP/1.0 200 OK\\r\\n\\r\\nhello\\n"; close $c}'`;

function get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/" }, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString()));
      res.on("end", () => resolve(body));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("a paused workspace's shells, services and ports come back with it (real microVM)", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  let pyro: Pyro;
  let id: string;
  beforeAll(async () => {
    home = useTempPyroHome();
    pyro = new Pyro({ home: home.home });
    id = (
      await pyro.createWorkspace({
        environment: "debian:12",
        memMib: 512,
        networkPolicy: "egress+published-ports",
      })
    ).workspace_id;
  });
  afterAll(async () => {
    await pyro.deleteWorkspace({ workspaceId: id }).catch(() => undefined);
    home.cleanup();
  });

  it("reads the same bytes at an old cursor, continues the shell, and serves the service on the same host port", async () => {
    const kernel = await installedGuestKernel();
    // Restored from its memory template: a whole-VM save of it must restore into plain memory.
    expect((await pyro.statusWorkspace({ workspaceId: id })).start_mode).toBe("template");
    const shell = await pyro.openShell({ workspaceId: id });
    await pyro.writeShell({
      workspaceId: id,
      shellId: shell.shell_id,
      input: "uname -r; seq 1 3000 | tail -n 3; echo before-$((6*7))",
    });
    const before = await pyro.readShell({ workspaceId: id, shellId: shell.shell_id, waitForIdleMs: 1500 });
    expect(before.output).toContain(kernel); // it ran in the guest
    expect(before.output).toContain("before-42");
    const web = await pyro.startService({
      workspaceId: id,
      serviceName: "web",
      command: `${HTTP_SERVER} 8080`,
      readiness: { type: "tcp", address: "127.0.0.1:8080" },
      publishedPorts: ["0:8080"],
    });
    expect(web.ready).toBe(true);
    const hostPort = (await pyro.statusWorkspace({ workspaceId: id })).published_ports?.[0]?.host_port;
    expect(hostPort).toBeGreaterThan(0);
    expect(await get(hostPort as number)).toBe("hello\n");

    await pyro.pauseWorkspace({ workspaceId: id });
    await expect(get(hostPort as number)).rejects.toThrow(); // the host port went with the supervisor
    await pyro.resumeWorkspace({ workspaceId: id });

    const again = await pyro.readShell({ workspaceId: id, shellId: shell.shell_id, cursor: 0 });
    expect(again.output.startsWith(before.output)).toBe(true);
    await pyro.writeShell({ workspaceId: id, shellId: shell.shell_id, input: "echo after-$((7*7))" });
    const after = await pyro.readShell({
      workspaceId: id,
      shellId: shell.shell_id,
      cursor: before.next_cursor,
      waitForIdleMs: 1500,
    });
    expect(after.output).toContain("after-49");
    expect(after.next_cursor).toBeGreaterThan(before.next_cursor);
    expect(await pyro.statusService({ workspaceId: id, serviceName: "web" })).toMatchObject({
      state: "running",
    });
    expect((await pyro.logsService({ workspaceId: id, serviceName: "web" })).logs).toContain("listening");
    expect(await get(hostPort as number)).toBe("hello\n");
  }, 180_000);

  it("pauses an idle workspace at its TTL instead of losing it, and resumes it whole", async () => {
    const shell = await pyro.openShell({ workspaceId: id });
    await pyro.writeShell({ workspaceId: id, shellId: shell.shell_id, input: "echo idle-$((5*5))" });
    const before = await pyro.readShell({ workspaceId: id, shellId: shell.shell_id, waitForIdleMs: 1000 });
    expect(before.output).toContain("idle-25");
    await pyro.updateWorkspace({ workspaceId: id, ttlSeconds: 2 });
    expect(await waitFor(() => processesMentioning(id).length === 0, 30_000, 200)).toBe(true);
    const paused = await pyro.statusWorkspace({ workspaceId: id });
    expect(paused.ended).toMatch(/paused \(ttl expired\)/);
    expect((await pyro.reapExpired()).reaped).toEqual([]);
    await pyro.updateWorkspace({ workspaceId: id, ttlSeconds: 600 });
    await pyro.resumeWorkspace({ workspaceId: id });
    const again = await pyro.readShell({ workspaceId: id, shellId: shell.shell_id, cursor: 0 });
    expect(again.output).toBe(before.output);
    await pyro.writeShell({ workspaceId: id, shellId: shell.shell_id, input: "echo awake" });
    const after = await pyro.readShell({
      workspaceId: id,
      shellId: shell.shell_id,
      cursor: before.next_cursor,
      waitForIdleMs: 1000,
    });
    expect(after.output).toContain("awake");
  }, 180_000);
});
