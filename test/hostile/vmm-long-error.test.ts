import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GUEST_TEXT_MAX_JSON_BYTES } from "../../src/runtime/bounded-text.js";
import { controlCall } from "../../src/runtime/control-client.js";
import type { ManagedInfo } from "../../src/runtime/managed.js";
import { Pyro } from "../../src/surfaces/sdk/pyro.js";
import { processesMentioning, waitFor } from "../helpers/processes.js";
import { useTempPyroHome } from "../helpers/pyro-home.js";

const LONG_ERROR_AGENT = fileURLToPath(new URL("../fixtures/long-error-agent.mjs", import.meta.url));
const pyro = new Pyro();

// The replaceable agent answers every shell and service with a frame-sized error message. The
// supervisor keeps that text for each of up to 64 processes and repeats it in every reply about
// them: each reply must still fit a frame, and the text the host keeps must be bounded.
describe("a guest answering shells and services with huge error messages", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  let vmId: string;
  beforeAll(async () => {
    home = useTempPyroHome();
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
    const ids: string[] = [];
    for (let index = 0; index < 64; index += 1) {
      const kind = index % 2 === 0 ? "shell" : "service";
      const { reply } = await controlCall(
        vmId,
        {
          op: "start",
          kind,
          name: `p${index}`,
          request: { args: ["/bin/true"], cwd: `/${"d".repeat(200)}` },
        },
        {},
      );
      ids.push((reply.info as ManagedInfo).id);
    }
    const last = ids.at(-1) as string;
    const { reply: waited } = await controlCall(vmId, { op: "wait", id: last, timeout_ms: 5_000 }, {});
    const info = waited.info as ManagedInfo;
    expect(info.state).toBe("exited");
    expect(info.error).toMatch(/^E+: /);
    expect([...(info.error as string)].some((c) => c.charCodeAt(0) < 0x20)).toBe(false);
    expect(Buffer.byteLength(JSON.stringify(info.error))).toBeLessThanOrEqual(GUEST_TEXT_MAX_JSON_BYTES);

    const { reply: listed } = await controlCall(vmId, { op: "list" }, {});
    expect(listed.processes as ManagedInfo[]).toHaveLength(64);
    for (const id of ids) {
      const { reply } = await controlCall(vmId, { op: "read", id, cursor: 0, max_bytes: 1 << 20 }, {});
      expect(reply.ok).toBe(true);
    }
    // Still a working supervisor after all of that.
    expect((await pyro.statusVm({ vmId })).state).toBe("running");
  });
});
