import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { netstackBinary } from "../../src/machine/network/netstack.js";
import { netstackHardeningChecks } from "../../src/machine/network/netstack-hardening.js";
import { waitFor } from "../helpers/processes.js";

const helper = netstackBinary();
const UNFILTERED = join(process.cwd(), "netstack", "build", "pyro-netstack-unfiltered");
const dir = mkdtempSync(join(tmpdir(), "pyro-netstack-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return !/\) Z /.test(execFileSync("cat", [`/proc/${pid}/stat`]).toString());
  } catch {
    return false;
  }
};

describe.skipIf(helper === null)("pyro-netstack's least privilege", () => {
  it("reports, as the kernel sees it, its seccomp filter, no_new_privs, parent death signal and user", async () => {
    const checks = await netstackHardeningChecks(helper);
    expect(checks.map((c) => [c.name, c.status])).toEqual([
      ["netstack frame filter", "PASS"],
      ["netstack seccomp", "PASS"],
      ["netstack parent death", "PASS"],
      ["netstack user", "PASS"],
    ]);
    const report = execFileSync(helper as string, ["--hardening-report"]).toString();
    expect(report).toContain("seccomp filter\n");
    expect(report).toContain("no_new_privs on\n");
    expect(report).toContain("parent_death_signal SIGKILL\n");
    if (process.getuid?.() === 0) expect(report).toContain("uid 65534\n");
  });

  it("doctor fails a helper built without its frame filter", async () => {
    execFileSync("make", ["-s", "-C", "netstack", "unfiltered"]);
    const checks = await netstackHardeningChecks(UNFILTERED);
    expect(checks[0]).toMatchObject({ name: "netstack frame filter", status: "FAIL", detail: "off" });
    expect((await netstackHardeningChecks("/nonexistent/pyro-netstack"))[0]).toMatchObject({
      status: "FAIL",
    });
  });

  it("dies within a second of its parent, even when its VM socket stays open", async () => {
    // A stand-in supervisor (sh) starts the helper on a FIFO it holds open itself, so only the
    // parent's death can end it; then the parent is killed with SIGKILL.
    const fifo = join(dir, "vm.fifo");
    if (!existsSync(fifo)) execFileSync("mkfifo", [fifo]);
    const parent = spawn("sh", ["-c", `"$0" --fd 0 <>"$1" & echo $!; wait`, helper as string, fifo], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const pid = Number(
      await new Promise<string>((resolve) =>
        parent.stdout.once("data", (d: Buffer) => resolve(d.toString())),
      ),
    );
    expect(await waitFor(() => alive(pid), 2000)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 300)); // hardened by now
    expect(alive(pid)).toBe(true);
    const killedAt = Date.now();
    parent.kill("SIGKILL");
    try {
      expect(await waitFor(() => !alive(pid), 3000, 10)).toBe(true);
      expect(Date.now() - killedAt).toBeLessThan(1000);
    } finally {
      if (alive(pid)) process.kill(pid, "SIGKILL"); // this test's own helper, left by a failure
    }
  });
});
