import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadVm } from "../../src/sandbox/vm/manager.js";
import { Pyro } from "../../src/surfaces/sdk/pyro.js";
import { installedGuestKernel } from "../guest/guest-env.js";
import { processesMentioning } from "../helpers/processes.js";
import { useTempPyroHome } from "../helpers/pyro-home.js";

let pyro: Pyro;
const MiB = 1024 * 1024;
const GUEST_MIB = 512;
// Guest RAM, QEMU's 128 MiB translation cache and its own overhead: all the host ever gives it.
const QEMU_RSS_LIMIT = (GUEST_MIB + 400) * MiB;

function status(pid: number): { rss: number; threads: number } {
  const text = readFileSync(`/proc/${pid}/status`, "utf8");
  return {
    rss: Number(/^VmRSS:\s+(\d+) kB/m.exec(text)?.[1]) * 1024,
    threads: Number(/^Threads:\s+(\d+)/m.exec(text)?.[1]),
  };
}

/** Samples QEMU while `during` runs: the most memory and threads the guest ever cost the host. */
async function peakWhile<T>(
  qemu: number,
  during: Promise<T>,
): Promise<{ result: T; rss: number; threads: number }> {
  let rss = 0;
  let threads = 0;
  const timer = setInterval(() => {
    const now = status(qemu);
    rss = Math.max(rss, now.rss);
    threads = Math.max(threads, now.threads);
  }, 100);
  try {
    return { result: await during, rss, threads };
  } finally {
    clearInterval(timer);
  }
}

// Root in the guest exhausts its memory, then its process table. The host must see none of it
// beyond the VM's fixed size, and the workspace must answer or say clearly what state it is in.
describe("memory and fork bombs inside a guest", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  let id: string;
  let qemu: number;
  beforeAll(async () => {
    home = useTempPyroHome();
    pyro = new Pyro({ home: home.home });
    const guestKernel = await installedGuestKernel();
    id = (await pyro.createWorkspace({ environment: "debian:12-base", memMib: GUEST_MIB })).workspace_id;
    expect((await pyro.execWorkspace({ workspaceId: id, command: "uname -r" })).stdout.trim()).toBe(
      guestKernel,
    );
    qemu = loadVm(home.store(), id).vmm_pid as number;
  });
  afterAll(async () => {
    await pyro.deleteWorkspace({ workspaceId: id }).catch(() => undefined);
    home.cleanup();
  });

  it("a memory bomb is killed inside the guest; QEMU stays within the VM's size", async () => {
    const bomb = pyro.execWorkspace({
      workspaceId: id,
      command: `perl -e 'my @hog; push @hog, "x" x (1 << 20) while 1'`,
      timeoutSeconds: 240,
    });
    const { result, rss } = await peakWhile(qemu, bomb);
    expect(result.exit_code).not.toBe(0);
    expect(result.timed_out).toBe(false); // the guest's OOM killer ended it, not pyro's timeout
    expect(rss).toBeLessThan(QEMU_RSS_LIMIT);
    const after = await pyro.execWorkspace({
      workspaceId: id,
      command: "dmesg | grep -c 'Out of memory' ; echo alive",
      timeoutSeconds: 60,
    });
    expect(after.stdout).toMatch(/^[1-9]\d*\nalive\n$/);
  }, 400_000);

  it("a fork bomb stays in the guest: the host gains no process, and delete leaves nothing", async () => {
    const hostProcesses = processesMentioning(id).length;
    const before = status(qemu).threads;
    // setsid: the bomb leaves the command's process group, so ending the command does not end it.
    await pyro.execWorkspace({
      workspaceId: id,
      command: "setsid bash -c 'f() { f | f & }; f' > /dev/null 2>&1 < /dev/null & echo lit",
    });
    const probe = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 20_000));
      const started = Date.now();
      const answer = await pyro
        .execWorkspace({ workspaceId: id, command: "echo alive", timeoutSeconds: 30 })
        .then((r) => ({ ok: r.stdout === "alive\n", code: null as string | null }))
        .catch((error: { code?: string }) => ({ ok: false, code: error.code ?? "none" }));
      return { ...answer, ms: Date.now() - started };
    })();
    const { result, rss, threads } = await peakWhile(qemu, probe);
    // Either it still answers, or it says clearly that the command could not run or timed out.
    if (!result.ok)
      expect(["EXEC_FAILED", "AGENT_UNREACHABLE", "WORKSPACE_NOT_RUNNING"]).toContain(result.code);
    expect(result.ms).toBeLessThan(90_000);
    expect(rss).toBeLessThan(QEMU_RSS_LIMIT);
    // Guest processes are not host threads: only QEMU's own pool (at most 64 I/O workers) may grow.
    expect(threads).toBeLessThan(before + 64);
    expect(processesMentioning(id).length).toBe(hostProcesses);
    expect((await pyro.statusWorkspace({ workspaceId: id })).state).toMatch(/^(running|failed)$/);
    await pyro.deleteWorkspace({ workspaceId: id });
    expect(processesMentioning(id)).toEqual([]);
  }, 400_000);
});
