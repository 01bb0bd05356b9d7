import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execInVm } from "../../src/sandbox/vm/exec.js";
import { Pyro } from "../../src/surfaces/sdk/pyro.js";
import { processesMentioning, waitFor } from "../helpers/processes.js";
import { useTempPyroHome } from "../helpers/pyro-home.js";

const HOSTILE_AGENT = fileURLToPath(new URL("../fixtures/hostile-agent.mjs", import.meta.url));
let pyro: Pyro;

describe("a guest that breaks the protocol", () => {
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

  it.each(["oversize", "bad-type", "unknown-stream"])(
    "gets a protocol error and its VM killed (%s)",
    async (mode) => {
      process.env.HOSTILE_MODE = mode;
      const vm = await pyro.createVm({ environment: "debian:12", backend: "host", allowHostCompat: true });
      await pyro.startVm({ vmId: vm.vm_id });
      expect(processesMentioning(vm.vm_id).length).toBeGreaterThan(0);
      const started = Date.now();
      await expect(
        execInVm(home.store(), vm.vm_id, { command: "true", timeoutSeconds: 30 }),
      ).rejects.toMatchObject({
        code: "PROTOCOL_ERROR",
      });
      expect(Date.now() - started).toBeLessThan(5_000); // never hangs
      expect(await waitFor(() => processesMentioning(vm.vm_id).length === 0, 5_000)).toBe(true);
      const status = await pyro.statusVm({ vmId: vm.vm_id });
      expect(status.state).toBe("failed");
      expect(status.ended).toContain("protocol");
      await pyro.deleteVm({ vmId: vm.vm_id });
    },
  );
});
