import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { readdirSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadVm } from "../../src/sandbox/vm/manager.js";
import { Pyro } from "../../src/surfaces/sdk/pyro.js";
import { installedGuestKernel } from "../guest/guest-env.js";
import { runPyro } from "../helpers/cli.js";
import { connectMcp } from "../helpers/mcp-client.js";
import { processesMentioning, waitFor } from "../helpers/processes.js";
import { useTempPyroHome } from "../helpers/pyro-home.js";

let pyro: Pyro;

/** A live (not zombie) process: a killed child whose new parent never reaps it counts as gone. */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

function childrenOf(parent: number): Array<{ pid: number; command: string }> {
  const children: Array<{ pid: number; command: string }> = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(") ") + 2).split(" ")[1]);
      if (ppid === parent)
        children.push({ pid: Number(entry), command: readFileSync(`/proc/${entry}/cmdline`, "utf8") });
    } catch {
      // gone meanwhile
    }
  }
  return children;
}

// The supervisor is what an attacker on the host side (or a crash) takes down; the guest must not
// outlive it. Network on, so pyro-netstack is there to outlive it too.
describe("a VM supervisor that dies by a signal takes its VM with it", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  let id: string;
  let guestKernel: string;
  beforeAll(async () => {
    home = useTempPyroHome();
    pyro = new Pyro({ home: home.home });
    guestKernel = await installedGuestKernel();
    id = (await pyro.createWorkspace({ environment: "debian:12-base", memMib: 512, networkPolicy: "egress" }))
      .workspace_id;
  });
  afterAll(async () => {
    await pyro.deleteWorkspace({ workspaceId: id }).catch(() => undefined);
    expect(processesMentioning(id)).toEqual([]);
    home.cleanup();
  });

  it.each([
    ["SIGKILL", "failed"],
    ["SIGSEGV", "failed"],
    ["SIGTERM", "stopped"],
  ] as const)(
    "%s of the supervisor: QEMU and pyro-netstack gone within 1 s, status at once",
    async (signal, state) => {
      if ((await pyro.statusWorkspace({ workspaceId: id })).state !== "running")
        await pyro.startWorkspace({ workspaceId: id });
      const ran = await pyro.execWorkspace({ workspaceId: id, command: "uname -r" });
      expect(ran.stdout.trim()).toBe(guestKernel);
      const supervisor = loadVm(home.store(), id).supervisor_pid as number;
      const children = childrenOf(supervisor);
      const qemu = children.find((child) => child.command.includes(`pyro-${id}`));
      const netstack = children.find((child) => child.command.includes("pyro-netstack"));
      expect(qemu).toBeDefined();
      expect(netstack).toBeDefined();

      process.kill(supervisor, signal);
      // SIGTERM is an orderly stop (the guest powers off first); the others end it at once.
      expect(await waitFor(() => !alive(supervisor), 15_000, 10)).toBe(true);
      const died = Date.now();
      const vmGone = await waitFor(() => !alive(qemu!.pid) && !alive(netstack!.pid), 1_000, 10);
      const after = Date.now() - died;
      expect(vmGone, `QEMU or pyro-netstack still alive ${after} ms after the supervisor died`).toBe(true);
      expect(after).toBeLessThan(1_000);

      const status = await pyro.statusWorkspace({ workspaceId: id });
      expect(status.state).toBe(state);
      if (signal !== "SIGTERM") expect(status.ended).toContain("supervisor died");
      if (signal === "SIGKILL") {
        // The same answer on the CLI and over MCP.
        const cli = await runPyro(["workspace", "status", id, "--json"]);
        expect(JSON.parse(cli.stdout)).toMatchObject({
          state,
          ended: expect.stringContaining("supervisor died"),
        });
        const mcp = await connectMcp(null);
        try {
          const result = (await mcp.callTool({
            name: "workspace_status",
            arguments: { workspace_id: id },
          })) as CallToolResult;
          expect(result.structuredContent).toMatchObject({
            state,
            ended: expect.stringContaining("supervisor died"),
          });
        } finally {
          await mcp.close();
        }
      }
      const refused = Date.now();
      await expect(pyro.execWorkspace({ workspaceId: id, command: "true" })).rejects.toMatchObject({
        code: "WORKSPACE_NOT_RUNNING",
      });
      expect(Date.now() - refused).toBeLessThan(2_000);
      expect(processesMentioning(`pyro-${id}`)).toEqual([]);
    },
  );
});
