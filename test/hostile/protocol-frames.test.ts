import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { execInVm } from "../../src/sandbox/vm/exec.js";
import { loadVm } from "../../src/sandbox/vm/manager.js";
import { vmExitOf } from "../../src/sandbox/vm/status.js";
import { Pyro } from "../../src/surfaces/sdk/pyro.js";
import { processesMentioning, waitFor } from "../helpers/processes.js";
import { sandboxDir, useTempPyroHome } from "../helpers/pyro-home.js";

// A bounded handshake: an agent that never finishes HELLO_ACK fails the boot within this deadline.
vi.hoisted(() => {
  process.env.PYRO_BOOT_TIMEOUT_MS = "4000";
});

const HOSTILE_AGENT = fileURLToPath(new URL("../fixtures/hostile-agent.mjs", import.meta.url));
let pyro: Pyro;

/** A started VM whose agent is the hostile one in `mode` (the host backend: the attacker is the byte stream). */
async function hostileVm(mode: string): Promise<string> {
  process.env.HOSTILE_MODE = mode;
  const vm = await pyro.createVm({ environment: "debian:12", backend: "host", allowHostCompat: true });
  return vm.vm_id;
}

/** The VM's processes are gone, it is reported failed by a protocol error, and it deletes cleanly. */
async function expectKilledForProtocol(vmId: string): Promise<void> {
  expect(await waitFor(() => processesMentioning(vmId).length === 0, 5_000)).toBe(true);
  const status = await pyro.statusVm({ vmId });
  expect(status.state).toBe("failed");
  expect(status.ended).toContain("protocol");
  await pyro.deleteVm({ vmId });
}

describe("an agent that forges or breaks frames", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  beforeAll(() => {
    home = useTempPyroHome();
    pyro = new Pyro({ home: home.home });
    process.env.PYRO_AGENT_BIN = HOSTILE_AGENT;
  });
  afterAll(() => {
    delete process.env.PYRO_AGENT_BIN;
    delete process.env.HOSTILE_MODE;
    home.cleanup();
  });

  it("a HELLO_ACK for another protocol version fails the boot and leaves nothing running", async () => {
    const vmId = await hostileVm("version");
    // The caller is told why, and so is the supervisor's exit note.
    await expect(pyro.startVm({ vmId })).rejects.toMatchObject({
      code: "VM_BOOT_FAILED",
      message: expect.stringContaining("speaks version 2"),
    });
    expect(await waitFor(() => processesMentioning(vmId).length === 0, 5_000)).toBe(true);
    const exit = await waitFor(
      () => vmExitOf(join(sandboxDir(home.home, vmId), "vm"))?.reason === "protocol_error",
      5_000,
    );
    expect(exit).toBe(true);
    expect(vmExitOf(join(sandboxDir(home.home, vmId), "vm"))?.detail).toContain("speaks version 2");
    await pyro.deleteVm({ vmId });
  });

  it("an agent that never answers HELLO fails the boot at its deadline", async () => {
    const vmId = await hostileVm("silent");
    const started = Date.now();
    await expect(pyro.startVm({ vmId })).rejects.toMatchObject({ code: "VM_BOOT_TIMEOUT" });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(await waitFor(() => processesMentioning(vmId).length === 0, 5_000)).toBe(true);
    await pyro.deleteVm({ vmId });
  });

  it("a HELLO_ACK trickled one byte every 500 ms cannot hold the boot past its deadline", async () => {
    const vmId = await hostileVm("trickle-hello");
    const started = Date.now();
    await expect(pyro.startVm({ vmId })).rejects.toMatchObject({ code: "VM_BOOT_TIMEOUT" });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(await waitFor(() => processesMentioning(vmId).length === 0, 5_000)).toBe(true);
    await pyro.deleteVm({ vmId });
  });

  it.each([
    ["oversize", "a header announcing a 16 MiB body"],
    ["oversize-max", "a header announcing a 4 GiB body"],
    ["bad-type", "a frame of unknown type"],
    ["unknown-stream", "output for a stream nobody opened"],
    ["forged-type", "a CONTROL_REPLY forged on a command's stream"],
    ["garbage", "random bytes after a valid frame"],
  ])("%s: %s is a PROTOCOL_ERROR and the VM is killed", async (mode) => {
    const vmId = await hostileVm(mode);
    await pyro.startVm({ vmId });
    expect(processesMentioning(vmId).length).toBeGreaterThan(0);
    const started = Date.now();
    await expect(execInVm(home.store(), vmId, { command: "true", timeoutSeconds: 30 })).rejects.toMatchObject(
      {
        code: "PROTOCOL_ERROR",
      },
    );
    expect(Date.now() - started).toBeLessThan(5_000); // never hangs
    await expectKilledForProtocol(vmId);
  });

  it("output on a stream after its EXIT (a reused stream id) kills the VM", async () => {
    const vmId = await hostileVm("reused-stream");
    await pyro.startVm({ vmId });
    // The forged EXIT ends the call; the frame that follows on the finished stream is caught.
    const outcome = await execInVm(home.store(), vmId, { command: "true", timeoutSeconds: 30 });
    expect(outcome.stdout).toBe("");
    await expectKilledForProtocol(vmId);
  });

  it("an agent that never answers a command is given up at the command's deadline", async () => {
    const vmId = await hostileVm("mute-exec");
    await pyro.startVm({ vmId });
    const started = Date.now();
    await expect(execInVm(home.store(), vmId, { command: "true", timeoutSeconds: 1 })).rejects.toMatchObject({
      code: "AGENT_UNREACHABLE",
    });
    expect(Date.now() - started).toBeLessThan(25_000);
    // Contained: the VM is still ours to stop, and stopping it leaves nothing behind.
    expect(loadVm(home.store(), vmId).state).toBe("running");
    await pyro.deleteVm({ vmId });
    expect(await waitFor(() => processesMentioning(vmId).length === 0, 5_000)).toBe(true);
  });
});
