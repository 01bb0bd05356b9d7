import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Pyro } from "../../src/surfaces/sdk/pyro.js";
import { runPyro } from "../helpers/cli.js";
import { processesMentioning, waitFor } from "../helpers/processes.js";
import { sandboxDir, useTempPyroHome } from "../helpers/pyro-home.js";

const TTL_SECONDS = 3;

describe("an idle workspace at the end of its TTL", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  let pyro: Pyro;
  beforeAll(() => {
    home = useTempPyroHome();
    // One VM: a cold boot costs less than making a template, and expires the same way.
    pyro = new Pyro({ home: home.home, templates: false });
  });
  afterAll(async () => {
    for (const ws of (await pyro.listWorkspaces()).workspaces)
      await pyro.deleteWorkspace({ workspaceId: ws.workspace_id }).catch(() => undefined);
    home.cleanup();
  });

  it("counts the TTL from activity, then is paused (not deleted, not failed) with everything kept", async () => {
    const created = await pyro.createWorkspace({ memMib: 512, ttlSeconds: 600 });
    const id = created.workspace_id;
    await pyro.execWorkspace({
      workspaceId: id,
      command: "echo written-before-expiry > /workspace/notes.txt",
    });
    const shell = await pyro.openShell({ workspaceId: id });
    await pyro.writeShell({ workspaceId: id, shellId: shell.shell_id, input: "IDLE_VAR=still-here" });

    const updated = await runPyro([
      "workspace",
      "update",
      id,
      "--ttl-seconds",
      String(TTL_SECONDS),
      "--json",
    ]);
    expect(updated.code).toBe(0);
    expect(JSON.parse(updated.stdout)).toMatchObject({ ttl_seconds: TTL_SECONDS });

    // Busy for twice the TTL: each request moves the deadline, so it keeps running.
    const busyUntil = Date.now() + 2 * TTL_SECONDS * 1000;
    while (Date.now() < busyUntil) {
      await pyro.execWorkspace({ workspaceId: id, command: "true" });
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(processesMentioning(id).length).toBeGreaterThan(0);

    // Then idle: nothing touches it (a status query would count as activity) until its VM is gone.
    const idleSince = Date.now();
    expect(await waitFor(() => processesMentioning(id).length === 0, 30_000, 100)).toBe(true);
    expect(Date.now() - idleSince).toBeGreaterThanOrEqual(TTL_SECONDS * 1000 - 200);

    const status = await pyro.statusWorkspace({ workspaceId: id });
    expect(status).toMatchObject({ workspace_id: id, state: "paused" });
    const manifest = JSON.parse(
      readFileSync(join(sandboxDir(home.home, id), "paused", "manifest.json"), "utf8"),
    ) as {
      reason: string;
    };
    expect(manifest.reason).toBe("ttl_expired");
    await expect(pyro.execWorkspace({ workspaceId: id, command: "true" })).rejects.toMatchObject({
      code: "WORKSPACE_PAUSED",
    });

    // A fork of the expired workspace (SDK) starts from the same saved state.
    const fork = await pyro.forkWorkspace({ workspaceId: id, name: "after-expiry" });
    expect(fork).toMatchObject({ forked_from: id, state: "running", start_mode: "saved_state" });
    expect(
      (await pyro.execWorkspace({ workspaceId: fork.workspace_id, command: "cat notes.txt" })).stdout,
    ).toBe("written-before-expiry\n");
    await pyro.deleteWorkspace({ workspaceId: fork.workspace_id });

    const resumed = await pyro.resumeWorkspace({ workspaceId: id });
    expect(resumed).toMatchObject({ state: "running", start_mode: "saved_state", ttl_seconds: TTL_SECONDS });
    // Long enough again for the checks below (the SDK's update moves a running VM's deadline).
    expect(await pyro.updateWorkspace({ workspaceId: id, ttlSeconds: 600 })).toMatchObject({
      ttl_seconds: 600,
    });
    expect((await pyro.execWorkspace({ workspaceId: id, command: "cat notes.txt" })).stdout).toBe(
      "written-before-expiry\n",
    );
    const before = await pyro.readShell({ workspaceId: id, shellId: shell.shell_id });
    await pyro.writeShell({ workspaceId: id, shellId: shell.shell_id, input: 'echo "IDLE_VAR=$IDLE_VAR"' });
    const read = await pyro.readShell({
      workspaceId: id,
      shellId: shell.shell_id,
      cursor: before.next_cursor,
      waitForIdleMs: 800,
      plain: true,
    });
    expect(read.output).toContain("IDLE_VAR=still-here");
    await pyro.deleteWorkspace({ workspaceId: id });
    expect(processesMentioning(id)).toEqual([]);
  });
});
