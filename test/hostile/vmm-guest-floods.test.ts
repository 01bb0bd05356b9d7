import { execFileSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONSOLE_LOG_MAX_BYTES } from "../../src/machine/qemu/console-log.js";
import { loadVm } from "../../src/sandbox/vm/manager.js";
import { Pyro } from "../../src/surfaces/sdk/pyro.js";
import { installedGuestKernel } from "../guest/guest-env.js";
import { processesMentioning } from "../helpers/processes.js";
import { sandboxDir, useTempPyroHome } from "../helpers/pyro-home.js";

let pyro: Pyro;
const MiB = 1024 * 1024;

function rssBytes(pid: number): number {
  const kib = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  return Number(kib) * 1024;
}

/** Writes to a shell, retrying while the guest has not taken earlier input yet. */
async function writeWhenTaken(workspaceId: string, shellId: string, input: string): Promise<void> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      await pyro.writeShell({ workspaceId, shellId, input, appendNewline: false });
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== "LIMIT_EXCEEDED" || Date.now() > deadline) throw error;
    }
  }
}

// One guest floods every channel it has to the host: its serial console, its disk, and a shell's
// input that it refuses to read. Each must stay bounded on the host while the workspace answers.
describe("a guest flooding what the host keeps for it", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  let id: string;
  let vmDir: string;
  beforeAll(async () => {
    home = useTempPyroHome();
    pyro = new Pyro({ home: home.home });
    const guestKernel = await installedGuestKernel();
    id = (await pyro.createWorkspace({ environment: "debian:12-base", memMib: 512 })).workspace_id;
    vmDir = join(sandboxDir(home.home, id), "vm");
    const ran = await pyro.execWorkspace({ workspaceId: id, command: "uname -r" });
    expect(ran.stdout.trim()).toBe(guestKernel);
  });
  afterAll(async () => {
    await pyro.deleteWorkspace({ workspaceId: id }).catch(() => undefined);
    expect(processesMentioning(id)).toEqual([]);
    home.cleanup();
  });

  it("20 MB written to the serial console leave a capped, owner-only console log", async () => {
    const flood = await pyro.execWorkspace({
      workspaceId: id,
      command:
        "stty -F /dev/ttyS0 raw -echo && head -c 20000000 /dev/zero | tr '\\0' A > /dev/ttyS0 && echo END-OF-FLOOD > /dev/ttyS0 && echo flooded",
      timeoutSeconds: 900,
    });
    expect(flood.stdout).toBe("flooded\n");
    const log = join(vmDir, "console.log");
    const stat = statSync(log);
    expect(stat.size).toBeLessThanOrEqual(CONSOLE_LOG_MAX_BYTES);
    expect(stat.size).toBeGreaterThan(CONSOLE_LOG_MAX_BYTES / 2); // the newest half is kept
    expect(stat.mode & 0o777).toBe(0o600);
    expect(readFileSync(log, "utf8").trimEnd().endsWith("END-OF-FLOOD")).toBe(true);
    expect((await pyro.execWorkspace({ workspaceId: id, command: "echo still-here" })).stdout).toBe(
      "still-here\n",
    );
  }, 1_000_000);

  it("a guest filling its root disk grows the host overlay no further than the disk's size", async () => {
    const overlay = join(vmDir, "disk.qcow2");
    const info = JSON.parse(
      execFileSync("qemu-img", ["info", "-U", "--output=json", overlay], { encoding: "utf8" }),
    ) as { "virtual-size": number };
    const fill = await pyro.execWorkspace({
      workspaceId: id,
      command:
        "dd if=/dev/zero of=/fill bs=1M 2>&1 | grep -o 'No space left on device'; sync; df -k / | tail -1",
      timeoutSeconds: 600,
    });
    expect(fill.stdout).toMatch(/No space left on device/);
    expect(fill.stdout).toMatch(/\s100%\s/);
    const allocated = statSync(overlay).blocks * 512;
    expect(allocated).toBeGreaterThan(MiB * 512); // the guest really filled it
    expect(allocated).toBeLessThanOrEqual(info["virtual-size"] + 64 * MiB);
    const freed = await pyro.execWorkspace({
      workspaceId: id,
      command: "rm /fill && echo freed",
      timeoutSeconds: 120,
    });
    expect(freed.stdout).toBe("freed\n");
  }, 900_000);

  it("shell input faster than the guest reads is paced, then refused, never buffered on the host", async () => {
    const supervisor = loadVm(home.store(), id).supervisor_pid as number;
    const shell = await pyro.openShell({ workspaceId: id });
    // The shell's only reader sleeps first: input piles up in the guest, then on the host side.
    await pyro.writeShell({ workspaceId: id, shellId: shell.shell_id, input: "sleep 60; cat > /dev/null" });
    const line = `#${"x".repeat(98)}\n`;
    const block = line.repeat(Math.floor(MiB / line.length));
    const rssBefore = rssBytes(supervisor);
    let offered = 0;
    let refusal: unknown = null;
    const started = Date.now();
    while (offered < 64 * MiB && refusal === null && Date.now() - started < 120_000) {
      refusal = await pyro
        .writeShell({ workspaceId: id, shellId: shell.shell_id, input: block, appendNewline: false })
        .then(() => null)
        .catch((error: unknown) => error);
      if (refusal === null) offered += block.length;
    }
    expect(refusal).toMatchObject({ code: "LIMIT_EXCEEDED", message: expect.stringContaining("not read") });
    expect(offered).toBeLessThan(8 * MiB);
    expect(rssBytes(supervisor) - rssBefore).toBeLessThan(32 * MiB);
    // Once the guest reads again (the sleep ends, cat drains), the same shell works: a newline ends
    // any partial line, ^D ends cat, then a command runs.
    const cursor = (await pyro.readShell({ workspaceId: id, shellId: shell.shell_id, maxChars: 1 }))
      .next_cursor;
    await writeWhenTaken(id, shell.shell_id, "\n\u0004");
    await writeWhenTaken(id, shell.shell_id, "echo back-$((6*7))\n");
    let tail = "";
    let next = cursor;
    const deadline = Date.now() + 240_000;
    while (!tail.includes("back-42") && Date.now() < deadline) {
      const read = await pyro.readShell({
        workspaceId: id,
        shellId: shell.shell_id,
        cursor: next,
        waitForIdleMs: 1000,
      });
      next = read.next_cursor;
      tail = (tail + read.output).slice(-4096);
    }
    expect(tail).toContain("back-42");
    await pyro.closeShell({ workspaceId: id, shellId: shell.shell_id });
  }, 600_000);
});
