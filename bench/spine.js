/** Spine figures: boot, one-shot runs, protocol round trips, memory, CLI start-up. */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { AgentClient } from "../dist/agent-protocol/client.js";
import { driverByName } from "../dist/machine/registry.js";
import { agentBinaryPath } from "../dist/machine/agent-binary.js";
import { composeGuestInitrd } from "../dist/machine/guest-initrd.js";
import { connectSupervisor } from "../dist/sandbox/supervisor-client.js";
import { createVm, deleteVm, loadVm, startVm } from "../dist/sandbox/vm/manager.js";
import { SandboxStore } from "../dist/sandbox/store.js";
import { ensureEnvironment } from "../dist/environments/index.js";
import { CLI, formatMs, median, report, timeRuns } from "./stats.js";

export function rssMib(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
}

/** QEMU spawn → the agent's HELLO_ACK, without pyro's supervisor in between. */
async function bootToAgent(home, environment, agent) {
  const dir = mkdtempSync(join(home, "boot-"));
  const spec = {
    id: `bench-${process.pid}`,
    vcpuCount: 1,
    memMib: 512,
    boot: {
      kernel: environment.kernelPath,
      initramfs: composeGuestInitrd(environment.initramfsPath, agent, home),
      rootfs: environment.rootfsPath,
    },
    agentBinary: agent,
    dir,
    files: { agentSocket: join(dir, "a.sock"), consoleLog: join(dir, "console.log") },
    accel: "tcg",
    network: null,
    workspaceDisk: null,
  };
  const qemu = driverByName("qemu");
  await qemu.disk.create(dir, { path: spec.boot.rootfs, format: "raw" });
  const started = performance.now();
  const vmm = await qemu.launch(spec);
  const client = await AgentClient.connect(await vmm.connectAgent(Date.now() + 60_000), {
    client: "bench",
    timeoutMs: 60_000,
  });
  const elapsed = performance.now() - started;
  client.close();
  vmm.process.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
  return elapsed;
}

export async function benchSpine({ quick, home }) {
  const environment = await ensureEnvironment("debian:12");
  const agent = agentBinaryPath();

  const bootSamples = [];
  for (let i = 0; i < (quick ? 3 : 7); i += 1) bootSamples.push(await bootToAgent(home, environment, agent));
  const runSamples = await timeRuns(quick ? 2 : 5, () => {
    // Cold boots, as the bare boot it is compared with (memory templates have their own section).
    const result = spawnSync(process.execPath, [CLI, "run", "debian:12", "--mem-mib", "512", "--", "true"], {
      stdio: "ignore",
      env: { ...process.env, PYRO_TEMPLATES: "off" },
    });
    if (result.status !== 0) throw new Error(`pyro run failed with ${result.status}`);
  });
  const bootMedian = median(bootSamples);
  const runMedian = median(runSamples);
  report("Boot (TCG here; KVM where usable)", [
    ["QEMU spawn -> agent ready (median)", formatMs(bootMedian)],
    ["pyro run debian:12 -- true, cold boot, end to end (median)", formatMs(runMedian)],
    ["ratio run / bare boot", `${(runMedian / bootMedian).toFixed(2)}x`],
  ]);

  const store = new SandboxStore({ home, templates: false });
  const vm = await createVm(store, {
    environment: "debian:12",
    vcpuCount: 1,
    memMib: 512,
    ttlSeconds: 600,
    networkPolicy: "off",
    allowHostCompat: false,
  });
  try {
    await startVm(store, vm.id);
    const client = await connectSupervisor(store, loadVm(store, vm.id), "bench");
    const rounds = quick ? 10 : 30;
    const env = ["PATH=/usr/bin:/bin"];
    const pingSamples = await timeRuns(rounds, () => client.ping(Buffer.from("x")));
    const execSamples = await timeRuns(
      rounds,
      () => client.exec({ args: ["/bin/true"], env, cwd: "/" }).result,
    );
    client.close();
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const record = loadVm(store, vm.id);
    const rss = rssMib(record.vmm_pid);
    const ping = median(pingSamples);
    report("Protocol (through the VM's supervisor, same channel)", [
      ["raw echo (PING/PONG) round trip (median)", formatMs(ping)],
      ["exec /bin/true round trip (median)", formatMs(median(execSamples))],
      ["ratio exec / raw echo", `${(median(execSamples) / ping).toFixed(1)}x`],
    ]);
    report("Memory (idle VM, 512 MiB guest, cold boot)", [
      ["QEMU RSS", `${rss.toFixed(0)} MiB`],
      ["supervisor RSS", `${rssMib(record.supervisor_pid).toFixed(0)} MiB`],
      ["ratio QEMU RSS / guest memory", `${(rss / 512).toFixed(2)}x`],
    ]);
  } finally {
    await deleteVm(store, vm.id);
  }

  const cliRuns = quick ? 5 : 15;
  const versionSamples = await timeRuns(cliRuns, () => execFileSync(process.execPath, [CLI, "--version"]));
  const nodeSamples = await timeRuns(cliRuns, () => execFileSync(process.execPath, ["-e", "0"]));
  report("CLI start-up", [
    ["pyro --version (median)", formatMs(median(versionSamples))],
    ["node -e 0 (median)", formatMs(median(nodeSamples))],
    ["ratio pyro --version / node -e 0", `${(median(versionSamples) / median(nodeSamples)).toFixed(2)}x`],
  ]);
}
