import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runPyro } from "../helpers/cli.js";
import { useTempPyroHome } from "../helpers/pyro-home.js";

const HOST = ["--backend", "host", "--allow-host-compat"];

describe("pyro run through the host-compat backend", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  beforeAll(() => {
    home = useTempPyroHome();
  });
  afterAll(() => home.cleanup());

  it("streams stdout, prints phases and a summary on stderr, and exits with the command's code", async () => {
    const result = await runPyro([
      "run",
      "debian:12",
      ...HOST,
      "--",
      "sh",
      "-c",
      "echo out; echo err >&2; exit 7",
    ]);
    expect(result.code).toBe(7);
    expect(result.stdout).toBe("out\n");
    expect(result.stderr).toMatch(/^\[run\] phase=create environment=debian:12$/m);
    expect(result.stderr).toMatch(/^\[run\] phase=start vm_id=[0-9a-f]+$/m);
    expect(result.stderr).toMatch(/^\[run\] phase=execute vm_id=[0-9a-f]+$/m);
    expect(result.stderr).toContain("err\n");
    expect(result.stderr).toMatch(
      /\[run\] environment=debian:12 execution_mode=host_compat .*exit_code=7 duration_ms=\d+/,
    );
  });

  it("prints a JSON result with --json", async () => {
    const result = await runPyro(["run", "debian:12", ...HOST, "--json", "--", "echo hi | tr a-z A-Z"]);
    expect(result.code).toBe(0);
    const outcome = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(outcome).toMatchObject({
      exit_code: 0,
      stdout: "HI\n",
      execution_mode: "host_compat",
      backend: "host",
      accel: "none",
      timed_out: false,
      cleanup: { deleted: true },
    });
  });

  it("refuses the host backend without the explicit opt-in", async () => {
    const result = await runPyro(["run", "debian:12", "--backend", "host", "--", "true"]);
    expect(result.code).toBe(64);
    expect(result.stderr).toContain("error [INVALID_ARGUMENT]");
    expect(result.stderr).toContain("--allow-host-compat");
  });

  it("fails closed with a fix when no VMM is installed, and runs host-compat only when allowed", async () => {
    const noQemu = { PYRO_QEMU_BIN: "/nonexistent/qemu-system-x86_64" };
    const refused = await runPyro(["run", "debian:12", "--", "true"], noQemu);
    expect(refused.code).toBe(69);
    expect(refused.stderr).toContain("error [BACKEND_UNAVAILABLE]");
    expect(refused.stderr).toContain("--allow-host-compat");
    expect(refused.stderr).not.toMatch(/\n\s+at /); // never a stack trace
    const allowed = await runPyro(["run", "debian:12", "--allow-host-compat", "--", "echo", "ok"], noQemu);
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toBe("ok\n");
    expect(allowed.stderr).toContain("execution_mode=host_compat");
  });

  it("reports bad input with a stable code and no stack trace", async () => {
    for (const args of [
      ["run", "debian:12", ...HOST],
      ["run", "debian:12", ...HOST, "--vcpu-count", "0", "--", "true"],
      ["run", "debian:12", ...HOST, "--mem-mib", "-5", "--", "true"],
      ["run", "debian:12", ...HOST, "--mem-mib", "lots", "--", "true"],
      ["run", "nope:1", ...HOST, "--", "true"],
    ]) {
      const result = await runPyro(args);
      expect(result.code, args.join(" ")).toBeGreaterThanOrEqual(64);
      expect(result.stderr).toMatch(/error \[(INVALID_ARGUMENT|ENVIRONMENT_UNKNOWN)\]/);
      expect(result.stderr).toContain("hint: ");
      expect(result.stderr).toMatch(
        /\ndocs: \S+\/docs\/troubleshooting\.md#(invalid_argument|environment_unknown)\n/,
      );
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it("reports a timeout as timed out with exit code 124", async () => {
    const result = await runPyro([
      "run",
      "debian:12",
      ...HOST,
      "--timeout-seconds",
      "1",
      "--json",
      "--",
      "sleep 20",
    ]);
    expect(result.code).toBe(124);
    expect(JSON.parse(result.stdout)).toMatchObject({ timed_out: true, exit_code: 124, signal: "SIGKILL" });
  });

  it("prints the version and the suggested path in --help", async () => {
    const version = await runPyro(["--version"]);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const help = await runPyro(["--help"]);
    expect(help.stdout).toContain("pyro doctor");
    expect(help.stdout).toContain("claude mcp add pyro -- npx -y pyro-mcp mcp serve");
  });
});
