import { release } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Pyro } from "../../src/surfaces/sdk/pyro.js";
import { runPyro, spawnPyro } from "../helpers/cli.js";
import { processesMentioning, waitFor } from "../helpers/processes.js";
import { useTempPyroHome } from "../helpers/pyro-home.js";
import { installedGuestKernel } from "./guest-env.js";

describe("pyro run in a real microVM (CLI)", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  let guestKernel: string;
  beforeAll(async () => {
    home = useTempPyroHome();
    guestKernel = await installedGuestKernel();
  });
  afterAll(() => home.cleanup());

  it("runs git --version and uname -r inside the guest, not on the host", async () => {
    const result = await runPyro(["run", "debian:12", "--", "git --version; uname -r"]);
    expect(result.code).toBe(0);
    const [git, kernel] = result.stdout.trim().split("\n");
    expect(git).toMatch(/^git version 2\.\d+/);
    expect(kernel).toBe(guestKernel);
    expect(kernel).not.toBe(release());
    expect(result.stderr).toMatch(
      /\[run\] environment=debian:12 execution_mode=guest_serial backend=qemu accel=(kvm|tcg) exit_code=0/,
    );
    expect(processesMentioning(home.home)).toEqual([]);
  });

  it("returns the guest's exit code, and 127 for a command the guest does not have", async () => {
    const failed = await runPyro(["run", "debian:12", "--", "sh", "-c", "exit 42"]);
    expect(failed.code).toBe(42);
    const missing = await runPyro(["run", "debian:12", "--", "no-such-command", "--flag"]);
    expect(missing.code).toBe(127);
    expect(missing.stderr).toContain("no-such-command: command not found");
    expect(missing.stderr).not.toContain("error [");
  });

  it("kills a command that runs past its timeout, reports it, and removes the VM", async () => {
    const result = await runPyro([
      "run",
      "debian:12",
      "--timeout-seconds",
      "2",
      "--json",
      "--",
      "sleep 60 & sleep 60",
    ]);
    expect(result.code).toBe(124);
    const outcome = JSON.parse(result.stdout) as { timed_out: boolean; vm_id: string; duration_ms: number };
    expect(outcome.timed_out).toBe(true);
    expect(outcome.duration_ms).toBeLessThan(10_000);
    expect(processesMentioning(outcome.vm_id)).toEqual([]);
  });

  it("leaves no QEMU behind after kill -9 of the CLI mid-run and the next reap", async () => {
    const child = spawnPyro(["run", "debian:12", "--", "sleep 120"]);
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    expect(await waitFor(() => stderr.includes("phase=execute"), 60_000)).toBe(true);
    const vmId = /vm_id=([0-9a-f]+)/.exec(stderr)?.[1] as string;
    expect(processesMentioning(`pyro-${vmId}`).length).toBeGreaterThan(0);
    child.kill("SIGKILL");
    await new Pyro().reapExpired();
    expect(await waitFor(() => processesMentioning(vmId).length === 0, 15_000)).toBe(true);
    await new Pyro().reapExpired();
    const list = await runPyro(["vm", "list", "--json"]);
    expect(
      (JSON.parse(list.stdout) as { vms: Array<{ vm_id: string }> }).vms.map((vm) => vm.vm_id),
    ).not.toContain(vmId);
  });
});
