import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { qemuBinary } from "../../src/machine/qemu/binary.js";
import { vmmHardeningChecks } from "../../src/machine/qemu/doctor-vmm.js";
import { loadVm } from "../../src/sandbox/vm/manager.js";
import { vmmUser } from "../../src/platform/vmm-user.js";
import { Pyro } from "../../src/surfaces/sdk/pyro.js";
import { runPyro } from "../helpers/cli.js";
import { connectMcp } from "../helpers/mcp-client.js";
import { processesMentioning } from "../helpers/processes.js";
import { sandboxDir, useTempPyroHome } from "../helpers/pyro-home.js";
import { installedGuestKernel } from "./guest-env.js";

let pyro: Pyro;

function statusField(pid: number, field: string): string {
  const match = new RegExp(`^${field}:\\s+(.*)$`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match?.[1]?.trim() ?? "";
}

describe("QEMU runs confined", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  let id: string;
  let qemu: number;
  beforeAll(async () => {
    home = useTempPyroHome();
    pyro = new Pyro({ home: home.home });
    const guestKernel = await installedGuestKernel();
    id = (await pyro.createWorkspace({ environment: "debian:12-base", memMib: 512 })).workspace_id;
    expect((await pyro.execWorkspace({ workspaceId: id, command: "uname -r" })).stdout.trim()).toBe(
      guestKernel,
    );
    qemu = loadVm(home.store(), id).vmm_pid as number;
  });
  afterAll(async () => {
    await pyro.deleteWorkspace({ workspaceId: id }).catch(() => undefined);
    expect(processesMentioning(id)).toEqual([]);
    home.cleanup();
  });

  it("under its seccomp filter, with no way to gain privileges", () => {
    expect(readFileSync(`/proc/${qemu}/cmdline`, "utf8")).toContain(`pyro-${id}`);
    expect(statusField(qemu, "Seccomp")).toBe("2");
    expect(statusField(qemu, "NoNewPrivs")).toBe("1");
    expect(statusField(qemu, "CapEff")).toMatch(/^0+$/);
  });

  it("as an unprivileged user when pyro is root, having opened its files first", () => {
    const user = vmmUser();
    if (process.geteuid?.() === 0) {
      expect(user).not.toBeNull();
      const uid = String(user?.uid);
      expect(statusField(qemu, "Uid").split(/\s+/)).toEqual([uid, uid, uid, uid]);
      // The disk it writes through was opened as root and is not the unprivileged user's.
      expect(statSync(join(sandboxDir(home.home, id), "vm", "disk.qcow2")).uid).toBe(0);
    } else {
      expect(user).toBeNull();
      expect(statusField(qemu, "Uid").split(/\s+/)[1]).toBe(String(process.geteuid?.()));
    }
  });

  it("and pyro doctor reports exactly that, measured, on the SDK, the CLI and MCP", async () => {
    const expectVmmLines = (checks: Array<{ name: string; status: string; detail: string }>): void => {
      const byName = Object.fromEntries(checks.map((check) => [check.name, check]));
      expect(byName["vmm sandbox"]).toMatchObject({
        status: "PASS",
        detail: expect.stringContaining("Seccomp: 2"),
      });
      expect(byName["vmm user"]?.status).toBe("PASS");
      if (process.geteuid?.() === 0)
        expect(byName["vmm user"]?.detail).toContain(`to ${vmmUser()?.name} (uid ${vmmUser()?.uid})`);
      expect(byName["vmm lifetime"]?.status).toBe("PASS");
    };
    expectVmmLines(await vmmHardeningChecks(qemuBinary() as string));
    expectVmmLines((await pyro.doctor()).checks);
    const cli = await runPyro(["doctor"]);
    expect(cli.stdout).toMatch(/^PASS vmm sandbox: QEMU runs under seccomp \(-sandbox on,obsolete=deny,/m);
    expect(cli.stdout).toMatch(/^PASS vmm user: /m);
    const mcp = await connectMcp("workspace-full");
    try {
      const result = (await mcp.callTool({ name: "doctor", arguments: {} })) as CallToolResult;
      expectVmmLines(
        (result.structuredContent as { checks: Array<{ name: string; status: string; detail: string }> })
          .checks,
      );
    } finally {
      await mcp.close();
    }
  });
});
