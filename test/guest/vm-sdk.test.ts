import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execInVm } from "../../src/sandbox/vm/exec.js";
import { Pyro } from "../../src/surfaces/sdk/pyro.js";
import { processesMentioning } from "../helpers/processes.js";
import { useTempPyroHome } from "../helpers/pyro-home.js";
import { installedGuestKernel } from "./guest-env.js";

let pyro: Pyro;

describe("the VM lifecycle in a real microVM (SDK)", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  let guestKernel: string;
  beforeAll(async () => {
    home = useTempPyroHome();
    pyro = new Pyro({ home: home.home });
    guestKernel = await installedGuestKernel();
  });
  afterAll(() => home.cleanup());

  it("boots once and serves many commands, in parallel, from separate connections", async () => {
    const vm = await pyro.createVm({ environment: "debian:12", memMib: 512 });
    try {
      const started = await pyro.startVm({ vmId: vm.vm_id });
      expect(started).toMatchObject({ state: "running", backend: "qemu", execution_mode: "guest_serial" });
      expect(started.guest_kernel_release).toBe(guestKernel);
      const results = await Promise.all([
        execInVm(home.store(), vm.vm_id, { command: "sleep 1; echo a", timeoutSeconds: 20 }),
        execInVm(home.store(), vm.vm_id, { command: ["uname", "-r"], timeoutSeconds: 20 }),
        execInVm(home.store(), vm.vm_id, { command: "cd /workspace && pwd && hostname", timeoutSeconds: 20 }),
      ]);
      expect(results.map((r) => r.stdout)).toEqual([
        "a\n",
        `${guestKernel}\n`,
        "/workspace\npyro-" + vm.vm_id + "\n",
      ]);
      const network = await pyro.networkInfoVm({ vmId: vm.vm_id });
      expect(network).toMatchObject({ network_enabled: false, policy: "off", interfaces: ["lo"] });
      const stopped = await pyro.stopVm({ vmId: vm.vm_id });
      expect(stopped.state).toBe("stopped");
      expect(processesMentioning(`pyro-${vm.vm_id}`)).toEqual([]);
    } finally {
      await pyro.deleteVm({ vmId: vm.vm_id });
    }
    expect(processesMentioning(vm.vm_id)).toEqual([]);
  });

  it("streams a flood of guest output without holding it in memory", async () => {
    const before = process.memoryUsage().rss;
    let streamed = 0;
    const result = await pyro.runInVm(
      { command: "head -c 40000000 /dev/zero", timeoutSeconds: 120 },
      { onStdout: (chunk) => void (streamed += chunk.length) },
    );
    expect(result.exit_code).toBe(0);
    expect(streamed).toBe(40_000_000);
    expect(result.stdout_bytes).toBe(40_000_000);
    expect(result.stdout_truncated).toBe(true);
    expect(result.stdout.length).toBeLessThanOrEqual(1024 * 1024);
    expect(process.memoryUsage().rss - before).toBeLessThan(100 * 1024 * 1024);
  });

  it("vm_exec runs one command and deletes its VM", async () => {
    const vm = await pyro.createVm({ environment: "debian:12", memMib: 512 });
    await pyro.startVm({ vmId: vm.vm_id });
    const result = await pyro.execVm({ vmId: vm.vm_id, command: "cat /proc/1/comm" });
    expect(result.stdout.trim()).toBe("init");
    expect(result.cleanup.deleted).toBe(true);
    expect(processesMentioning(vm.vm_id)).toEqual([]);
    await expect(pyro.statusVm({ vmId: vm.vm_id })).rejects.toMatchObject({ code: "VM_NOT_FOUND" });
  });
});
