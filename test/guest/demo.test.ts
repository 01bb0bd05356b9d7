import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runPyro } from "../helpers/cli.js";
import { pyroWith } from "../helpers/lab-cli.js";
import { useTempPyroHome } from "../helpers/pyro-home.js";
import {
  LAB_HTTP_PORT,
  LAB_NAME,
  LAB_SERVER,
  canCreateLab,
  createLab,
  type Lab,
} from "../fixtures/netns-lab.mjs";

describe("pyro demo: one VM's whole life in a real guest", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  beforeAll(() => {
    home = useTempPyroHome();
  });
  afterAll(() => home.cleanup());

  it("creates, starts, runs and deletes a VM, printing the original product's JSON shape with cleanup", async () => {
    const result = await runPyro(["demo"]);
    expect(result.code, result.stderr).toBe(0);
    const demo = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(demo).toMatchObject({
      cleanup: { deleted: true, reason: expect.any(String), vm_id: demo.vm_id },
      command: "git --version",
      environment: "debian:12",
      execution_mode: expect.stringMatching(/^guest/),
      exit_code: 0,
      network_enabled: false,
    });
    expect(demo.stdout).toMatch(/^git version \d/);
    for (const phase of ["created", "started", "deleted"])
      expect(result.stderr).toContain(`[demo] phase=${phase}`);
    // Nothing is left behind: the VM is gone from the list.
    const list = JSON.parse((await runPyro(["vm", "list", "--json"])).stdout) as { count: number };
    expect(list.count).toBe(0);
  });
});

// The lab namespace pair answers DNS for its name and serves HTTP: no packet leaves the machine.
describe.skipIf(!canCreateLab())(
  "pyro demo --network: DNS and an HTTP fetch from the guest, against the lab",
  () => {
    let home: ReturnType<typeof useTempPyroHome>;
    let lab: Lab;
    beforeAll(async () => {
      home = useTempPyroHome();
      lab = await createLab();
    });
    afterAll(() => {
      lab?.close();
      home.cleanup();
    });

    it("resolves the lab's name and fetches its page through the guest's egress", async () => {
      const url = `http://${LAB_NAME}:${LAB_HTTP_PORT}/hello`;
      const result = await pyroWith(["ip", "netns", "exec", lab.pyroNs], ["demo", "--network", "--url", url]);
      expect(result.code, result.stderr).toBe(0);
      const demo = result.json();
      expect(demo).toMatchObject({
        cleanup: { deleted: true },
        exit_code: 0,
        network_enabled: true,
        network: {
          host: LAB_NAME,
          dns_addresses: [LAB_SERVER],
          url,
          http_status_line: expect.stringMatching(/^HTTP\/1\.[01] 200 /),
          http_body_tail: "hello from the lab",
        },
      });
    });

    it("fails (exit 1, JSON still printed) when the name does not resolve", async () => {
      const result = await pyroWith(
        ["ip", "netns", "exec", lab.pyroNs],
        ["demo", "--network", "--url", "http://no-such-name.pyro.test/"],
      );
      expect(result.code).toBe(1);
      expect(result.json()).toMatchObject({ cleanup: { deleted: true }, network: { dns_addresses: [] } });
    });
  },
);
