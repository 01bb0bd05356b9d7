import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GUEST_TEXT_MAX_JSON_BYTES } from "../../src/runtime/bounded-text.js";
import type { ManagedInfo } from "../../src/runtime/managed.js";
import { supervisorControl } from "../../src/sandbox/supervisor-client.js";
import { Pyro } from "../../src/surfaces/sdk/pyro.js";
import { processesMentioning, waitFor } from "../helpers/processes.js";
import { useTempPyroHome } from "../helpers/pyro-home.js";

const LONG_ERROR_AGENT = fileURLToPath(new URL("../fixtures/long-error-agent.mjs", import.meta.url));
let pyro: Pyro;

// The replaceable agent answers every shell and service with a frame-sized error message. The
// supervisor keeps that text for each of up to 64 processes and repeats it in every reply about
// them: each reply must still fit a frame, and the text the host keeps must be bounded.
describe("a guest answering shells and services with huge error messages", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  let vmId: string;
  beforeAll(async () => {
    home = useTempPyroHome();
    pyro = new Pyro({ home: home.home });
    process.env.PYRO_AGENT_BIN = LONG_ERROR_AGENT;
    vmId = (await pyro.createVm({ environment: "debian:12", backend: "host", allowHostCompat: true })).vm_id;
    await pyro.startVm({ vmId });
    expect((await pyro.statusVm({ vmId })).agent_version).toBe("long-error"); // the hostile agent answered
  });
  afterAll(async () => {
    delete process.env.PYRO_AGENT_BIN;
    await pyro.deleteVm({ vmId }).catch(() => undefined);
    expect(await waitFor(() => processesMentioning(vmId).length === 0, 5_000)).toBe(true);
    home.cleanup();
  });

  it("keeps each error bounded, and list, read and wait replies keep working for all of them", async () => {
    const control = supervisorControl(home.store(), vmId);
    const started: ManagedInfo[] = [];
    for (let index = 0; index < 64; index += 1) {
      const kind = index % 2 === 0 ? "shell" : "service";
      started.push(
        await control.start({
          kind,
          name: `p${index}`,
          request: { args: ["/bin/true"], cwd: `/${"d".repeat(200)}` },
        }),
      );
    }
    const last = started.at(-1) as ManagedInfo;
    const info = await control.wait({ kind: last.kind, id: last.id, timeout_ms: 5_000 });
    expect(info.state).toBe("exited");
    expect(info.error).toMatch(/^E+: /);
    expect([...(info.error as string)].some((c) => c.charCodeAt(0) < 0x20)).toBe(false);
    expect(Buffer.byteLength(JSON.stringify(info.error))).toBeLessThanOrEqual(GUEST_TEXT_MAX_JSON_BYTES);

    expect(await control.list()).toHaveLength(64);
    for (const { kind, id } of started) {
      const read = await control.read({ kind, id, cursor: 0, max_bytes: 1 << 20 });
      expect(read.info.id).toBe(id);
    }
    // Still a working supervisor after all of that.
    expect((await pyro.statusVm({ vmId })).state).toBe("running");
  });
});
