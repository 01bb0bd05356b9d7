import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { supervisorControl } from "../../src/sandbox/supervisor-client.js";
import { execInVm } from "../../src/sandbox/vm/exec.js";
import { loadVm } from "../../src/sandbox/vm/manager.js";
import { Pyro } from "../../src/surfaces/sdk/pyro.js";
import { processesMentioning, waitFor } from "../helpers/processes.js";
import { useTempPyroHome } from "../helpers/pyro-home.js";

const HOSTILE_AGENT = fileURLToPath(new URL("../fixtures/hostile-agent.mjs", import.meta.url));
let pyro: Pyro;
const MiB = 1024 * 1024;
// Two million empty items: kept one object each, they cost the host hundreds of MiB.
const FLOOD = 2_000_000;
const BOUND = 100 * MiB;

function rssOf(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(match?.[1] ?? 0) * 1024;
}

/** Runs `action` while sampling the RSS of this process and of `pid`; returns each one's peak growth. */
async function peakGrowth<T>(
  pid: number,
  action: () => Promise<T>,
): Promise<{ result: T | Error; self: number; other: number }> {
  const selfBefore = process.memoryUsage().rss;
  const otherBefore = rssOf(pid);
  let self = 0;
  let other = 0;
  const sample = (): void => {
    self = Math.max(self, process.memoryUsage().rss - selfBefore);
    try {
      other = Math.max(other, rssOf(pid) - otherBefore);
    } catch {
      // the process ended
    }
  };
  const timer = setInterval(sample, 100);
  try {
    const result = await action().catch((error: unknown) => error as Error);
    sample();
    return { result, self, other };
  } finally {
    clearInterval(timer);
  }
}

describe("an agent that floods the host with empty things or trickles bytes", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  beforeAll(() => {
    home = useTempPyroHome();
    pyro = new Pyro({ home: home.home });
    process.env.PYRO_AGENT_BIN = HOSTILE_AGENT;
    process.env.HOSTILE_COUNT = String(FLOOD);
  });
  afterAll(() => {
    delete process.env.PYRO_AGENT_BIN;
    delete process.env.HOSTILE_MODE;
    delete process.env.HOSTILE_COUNT;
    home.cleanup();
  });

  it("empty STDOUT frames for a command: the supervisor and the caller stay bounded", async () => {
    process.env.HOSTILE_MODE = "empty-flood";
    const vm = await pyro.createVm({ environment: "debian:12", backend: "host", allowHostCompat: true });
    await pyro.startVm({ vmId: vm.vm_id });
    const supervisor = loadVm(home.store(), vm.vm_id).supervisor_pid as number;
    const { result, self, other } = await peakGrowth(supervisor, () =>
      execInVm(home.store(), vm.vm_id, { command: "true", timeoutSeconds: 120 }),
    );
    // A bounded result: the command ends with no output, whatever the number of empty chunks.
    expect(result).toMatchObject({ exit_code: 0, stdout: "", stdout_bytes: 0 });
    expect(self).toBeLessThan(BOUND);
    expect(other).toBeLessThan(BOUND);
    await pyro.deleteVm({ vmId: vm.vm_id });
    expect(await waitFor(() => processesMentioning(vm.vm_id).length === 0, 5_000)).toBe(true);
  });

  it("empty STDOUT frames into a shell: the supervisor's output ring stays bounded", async () => {
    process.env.HOSTILE_MODE = "shell-flood";
    const ws = await pyro.createWorkspace({
      environment: "debian:12",
      backend: "host",
      allowHostCompat: true,
    });
    const supervisor = loadVm(home.store(), ws.workspace_id).supervisor_pid as number;
    const { other } = await peakGrowth(supervisor, async () => {
      const shell = await pyro.openShell({ workspaceId: ws.workspace_id });
      // The flood is over once the hostile agent has written everything; the supervisor kept up if a
      // control request answers and the shell has no output to show.
      await new Promise((resolve) => setTimeout(resolve, 15_000));
      const read = await pyro.readShell({ workspaceId: ws.workspace_id, shellId: shell.shell_id });
      expect(read.output).toBe("");
    });
    expect(other).toBeLessThan(BOUND);
    await pyro.deleteWorkspace({ workspaceId: ws.workspace_id });
    expect(await waitFor(() => processesMentioning(ws.workspace_id).length === 0, 5_000)).toBe(true);
  });

  it("a listing of empty entries past the cap: a clear error and a bounded caller", async () => {
    process.env.HOSTILE_MODE = "listing-flood";
    const ws = await pyro.createWorkspace({
      environment: "debian:12",
      backend: "host",
      allowHostCompat: true,
    });
    const supervisor = loadVm(home.store(), ws.workspace_id).supervisor_pid as number;
    const { result, self, other } = await peakGrowth(supervisor, () =>
      pyro.listWorkspaceFiles({ workspaceId: ws.workspace_id, path: ".", recursive: true }),
    );
    expect(result).toMatchObject({
      code: "PROTOCOL_ERROR",
      message: expect.stringContaining("more entries than asked for"),
    });
    expect(self).toBeLessThan(BOUND);
    expect(other).toBeLessThan(BOUND);
    await pyro.deleteWorkspace({ workspaceId: ws.workspace_id });
    expect(await waitFor(() => processesMentioning(ws.workspace_id).length === 0, 5_000)).toBe(true);
  });

  it("frames trickled one byte at a time arrive intact and do not stall the supervisor's other clients", async () => {
    process.env.HOSTILE_MODE = "trickle";
    process.env.HOSTILE_COUNT = "8";
    const vm = await pyro.createVm({ environment: "debian:12", backend: "host", allowHostCompat: true });
    await pyro.startVm({ vmId: vm.vm_id });
    try {
      const running = execInVm(home.store(), vm.vm_id, { command: "true", timeoutSeconds: 120 });
      // While 512 KiB arrive byte by byte, another client's request is answered promptly.
      const latencies: number[] = [];
      let done = false;
      void running.finally(() => (done = true));
      while (!done) {
        const started = Date.now();
        await supervisorControl(home.store(), vm.vm_id).list();
        latencies.push(Date.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const outcome = await running;
      expect(outcome.stdout_bytes).toBe(8 * 65536);
      expect(outcome.stdout).toBe(
        Array.from({ length: 8 }, (_, i) => String.fromCharCode(0x61 + i).repeat(65536)).join(""),
      );
      expect(latencies.length).toBeGreaterThan(2);
      expect(Math.max(...latencies)).toBeLessThan(1_000);
    } finally {
      process.env.HOSTILE_COUNT = String(FLOOD);
      await pyro.deleteVm({ vmId: vm.vm_id });
    }
    expect(await waitFor(() => processesMentioning(vm.vm_id).length === 0, 5_000)).toBe(true);
  });
});
