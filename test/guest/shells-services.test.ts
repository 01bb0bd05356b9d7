import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Pyro } from "../../src/surfaces/sdk/pyro.js";
import { processesMentioning } from "../helpers/processes.js";
import { useTempPyroHome } from "../helpers/pyro-home.js";

let pyro: Pyro;

// A tiny HTTP server from perl-base, which every Debian has.
const HTTP_SERVER = `perl -MIO::Socket::INET -e '$s=IO::Socket::INET->new(LocalAddr=>"127.0.0.1",LocalPort=>$ARGV[0],Listen=>5,ReuseAddr=>1) or die "listen: $!"; print "listening\\n"; $|=1; while($c=$s->accept){<$c>; print $c "HTTP/1.0 200 OK\\r\\n\\r\\nhello\\n"; close $c}'`;

describe("shells and services in a real microVM", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  let id: string;
  beforeAll(async () => {
    home = useTempPyroHome();
    pyro = new Pyro({ home: home.home });
    // debian:12-base carries procps, so `top` is there.
    id = (await pyro.createWorkspace({ environment: "debian:12-base", memMib: 512 })).workspace_id;
  });
  afterAll(async () => {
    await pyro.deleteWorkspace({ workspaceId: id }).catch(() => undefined);
    home.cleanup();
  });

  it("keeps a shell across calls and renders real programs as plain text", async () => {
    const shell = await pyro.openShell({ workspaceId: id, cols: 100, rows: 30 });
    const first = await pyro.readShell({
      workspaceId: id,
      shellId: shell.shell_id,
      waitForIdleMs: 1000,
      plain: true,
    });
    expect(first.output).toContain(`root@pyro-${id}:/workspace#`);
    await pyro.writeShell({
      workspaceId: id,
      shellId: shell.shell_id,
      input:
        "for i in 1 2 3 4; do printf '\\rprogress %d%%' $((i*25)); sleep 0.05; done; echo; ls --color=always -d /etc /usr; top -b -n1 | head -3",
    });
    const read = await pyro.readShell({
      workspaceId: id,
      shellId: shell.shell_id,
      cursor: first.next_cursor,
      waitForIdleMs: 1500,
      plain: true,
    });
    expect(read.output).toContain("progress 100%");
    expect(read.output).not.toContain("progress 25%");
    expect(read.output).toMatch(/\/etc\s+\/usr/);
    expect(read.output).toMatch(/^top - /m);
    expect(read.output).not.toContain("\x1b");
    const raw = await pyro.readShell({ workspaceId: id, shellId: shell.shell_id, cursor: first.next_cursor });
    expect(raw.output).toContain("\x1b["); // colours are there in raw mode
    expect(raw.next_cursor).toBe(read.next_cursor);

    await pyro.writeShell({ workspaceId: id, shellId: shell.shell_id, input: "sleep 60" });
    await pyro.readShell({
      workspaceId: id,
      shellId: shell.shell_id,
      cursor: raw.next_cursor,
      waitForIdleMs: 500,
    });
    await pyro.signalShell({ workspaceId: id, shellId: shell.shell_id, signalName: "INT" });
    await pyro.writeShell({ workspaceId: id, shellId: shell.shell_id, input: "echo after-interrupt" });
    const after = await pyro.readShell({
      workspaceId: id,
      shellId: shell.shell_id,
      cursor: raw.next_cursor,
      waitForIdleMs: 800,
      plain: true,
    });
    expect(after.output).toContain("after-interrupt");

    await pyro.closeShell({ workspaceId: id, shellId: shell.shell_id });
    await expect(pyro.readShell({ workspaceId: id, shellId: shell.shell_id })).rejects.toMatchObject({
      code: "SHELL_NOT_FOUND",
    });
    await expect(
      pyro.writeShell({ workspaceId: id, shellId: shell.shell_id, input: "x" }),
    ).rejects.toMatchObject({
      code: "SHELL_NOT_FOUND",
    });
  });

  it("says when a cursor's bytes were dropped from the bounded buffer and returns what remains", async () => {
    const shell = await pyro.openShell({ workspaceId: id });
    await pyro.writeShell({
      workspaceId: id,
      shellId: shell.shell_id,
      input: "head -c 1500000 /dev/zero | tr '\\0' x; echo; echo END-OF-FLOOD",
    });
    const settled = await pyro.readShell({
      workspaceId: id,
      shellId: shell.shell_id,
      cursor: 0,
      maxChars: 16,
      waitForIdleMs: 2000,
    });
    expect(settled.dropped_bytes).toBeGreaterThan(0);
    expect(settled.cursor).toBe(settled.dropped_bytes);
    const tail = await pyro.readShell({
      workspaceId: id,
      shellId: shell.shell_id,
      cursor: settled.cursor,
      maxChars: 1024 * 1024,
    });
    expect(tail.output).toContain("END-OF-FLOOD");
    expect(tail.next_cursor - tail.cursor).toBeLessThanOrEqual(1024 * 1024);
    await pyro.closeShell({ workspaceId: id, shellId: shell.shell_id });
  });

  it("refuses a 10 MB write to a shell with a clear error", async () => {
    const shell = await pyro.openShell({ workspaceId: id });
    await expect(
      pyro.writeShell({ workspaceId: id, shellId: shell.shell_id, input: "x".repeat(10 * 1024 * 1024) }),
    ).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await pyro.closeShell({ workspaceId: id, shellId: shell.shell_id });
  });

  it("starts services with file, tcp, http and command readiness; logs and stops them", async () => {
    const file = await pyro.startService({
      workspaceId: id,
      serviceName: "marker",
      command: "sleep 1; touch /tmp/ready-marker; exec sleep 600",
      readiness: { type: "file", path: "/tmp/ready-marker" },
    });
    expect(file).toMatchObject({ state: "running", ready: true });
    const tcp = await pyro.startService({
      workspaceId: id,
      serviceName: "web",
      command: `${HTTP_SERVER} 8081`,
      readiness: { type: "tcp", address: "127.0.0.1:8081" },
    });
    expect(tcp.ready).toBe(true);
    const http = await pyro.startService({
      workspaceId: id,
      serviceName: "web2",
      command: `${HTTP_SERVER} 8082`,
      readiness: { type: "http", url: "http://127.0.0.1:8082/" },
      readyTimeoutSeconds: 10,
    });
    expect(http.ready).toBe(true);
    const command = await pyro.startService({
      workspaceId: id,
      serviceName: "cmd",
      command: ["sh", "-c", "echo started; exec sleep 600"],
      readiness: { type: "command", command: "true" },
    });
    expect(command.ready).toBe(true);
    await expect(
      pyro.startService({ workspaceId: id, serviceName: "web", command: "sleep 1" }),
    ).rejects.toMatchObject({ code: "SERVICE_EXISTS" });
    expect((await pyro.listServices({ workspaceId: id })).services.map((s) => s.service_name).sort()).toEqual(
      ["cmd", "marker", "web", "web2"],
    );
    expect((await pyro.logsService({ workspaceId: id, serviceName: "web" })).logs).toContain("listening");
    const stopped = await pyro.stopService({ workspaceId: id, serviceName: "web" });
    expect(stopped.state).toBe("exited");
    // Service state and logs are not in /workspace: the diff stays empty.
    expect((await pyro.diffWorkspace({ workspaceId: id })).summary.total).toBe(0);
  });

  it("reports a readiness timeout with the last log lines and stops the service", async () => {
    const failure = await pyro
      .startService({
        workspaceId: id,
        serviceName: "never",
        command: "echo warming up; exec sleep 600",
        readiness: { type: "tcp", address: "127.0.0.1:9" },
        readyTimeoutSeconds: 2,
        readyIntervalMs: 200,
      })
      .catch((error: unknown) => error);
    expect(failure).toMatchObject({
      code: "SERVICE_NOT_READY",
      message: expect.stringContaining("warming up"),
    });
    expect((await pyro.statusService({ workspaceId: id, serviceName: "never" })).state).toBe("exited");
  });

  it("ends shells and services with a reset", async () => {
    await pyro.openShell({ workspaceId: id });
    await pyro.resetWorkspace({ workspaceId: id });
    expect((await pyro.listServices({ workspaceId: id })).count).toBe(0);
    expect(processesMentioning(id).length).toBeGreaterThan(0);
  });
});
