import type { Command } from "commander";
import type { RunOutcome } from "../../sandbox/vm-run.js";
import { EXIT_TIMED_OUT } from "../../errors/index.js";
import { integerOption, runForCliQuiet, stripUndefined } from "./output.js";
import { commandFromArgs } from "./command-args.js";
import { forwardTo } from "./forward.js";

export function registerRun(program: Command, setExit: (code: number) => void): void {
  program
    .command("run")
    .description("Run one command in a fresh microVM and delete it (exit code = the guest command's)")
    .argument("<environment>", "environment name, e.g. debian:12")
    .argument("[command...]", "command after --; one argument runs via /bin/sh -c, several are an argv")
    .option("--vcpu-count <n>", "virtual CPUs (default 1)", integerOption("--vcpu-count"))
    .option("--mem-mib <n>", "guest memory in MiB (default 1024)", integerOption("--mem-mib"))
    .option(
      "--timeout-seconds <n>",
      "kill the command after N seconds (default 30)",
      integerOption("--timeout-seconds"),
    )
    .option("--ttl-seconds <n>", "VM lifetime cap in seconds (default 600)", integerOption("--ttl-seconds"))
    .option("--network", "give the guest network access")
    .option(
      "--allow-private-egress",
      "let egress reach private ranges (10/8, 172.16/12, 192.168/16, 100.64/10)",
    )
    .option("--backend <name>", "auto, qemu, firecracker or host")
    .option("--allow-host-compat", "allow running without isolation when no VM can run")
    .option("--json", "print the result as JSON instead of streaming output")
    .action(async (environment: string, args: string[], flags: Record<string, unknown>) => {
      const json = flags.json === true;
      const input = stripUndefined({
        environment,
        command: commandFromArgs(args),
        vcpu_count: flags.vcpuCount,
        mem_mib: flags.memMib,
        timeout_seconds: flags.timeoutSeconds,
        ttl_seconds: flags.ttlSeconds,
        network: flags.network,
        allow_private_egress: flags.allowPrivateEgress,
        backend: flags.backend,
        allow_host_compat: flags.allowHostCompat,
      });
      const streaming = json
        ? {}
        : { onStdout: forwardTo(process.stdout), onStderr: forwardTo(process.stderr) };
      const { output, exitCode } = await runForCliQuiet("vm_run", input, {
        json,
        scope: "run",
        context: streaming,
      });
      if (exitCode !== 0) return setExit(exitCode);
      const outcome = output as RunOutcome;
      if (json) process.stdout.write(`${JSON.stringify(outcome, null, 2)}\n`);
      const timedOut = outcome.timed_out
        ? ` timed_out=true timeout_seconds=${String(input.timeout_seconds ?? 30)}`
        : "";
      process.stderr.write(
        `[run] environment=${outcome.environment} execution_mode=${outcome.execution_mode} backend=${outcome.backend} accel=${outcome.accel} exit_code=${outcome.exit_code} duration_ms=${outcome.duration_ms}${timedOut}\n`,
      );
      setExit(outcome.timed_out ? EXIT_TIMED_OUT : outcome.exit_code);
    });
}
