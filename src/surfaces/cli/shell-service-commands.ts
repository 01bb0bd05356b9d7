import type { Command } from "commander";
import { PyroError } from "../../errors/index.js";
import { commandFromArgs } from "./command-args.js";
import {
  integerOption,
  runForCli,
  runForCliQuiet,
  stripUndefined,
  type Flags,
  collect,
  wantsJson,
} from "./output.js";

/** The one readiness check given by --ready-file/--ready-tcp/--ready-http/--ready-command. */
function readinessFrom(flags: Flags): Record<string, string> | undefined {
  const checks: Array<[string, string, string]> = [
    ["readyFile", "file", "path"],
    ["readyTcp", "tcp", "address"],
    ["readyHttp", "http", "url"],
    ["readyCommand", "command", "command"],
  ];
  const given = checks
    .filter(([flag]) => flags[flag] !== undefined)
    .map(([flag, type, key]) => ({ type, [key]: flags[flag] as string }));
  if (given.length > 1) throw new PyroError("INVALID_ARGUMENT", "give at most one --ready-* check");
  return given[0];
}

/** `pyro workspace shell …` and `pyro workspace service …`. */
export function registerShellsAndServices(workspace: Command, setExit: (code: number) => void): void {
  const shell = workspace.command("shell").description("Persistent interactive shells (PTY) in a workspace");
  shell
    .command("open")
    .argument("<workspace-id>", "workspace id")
    .option("--cwd <dir>", "working directory inside /workspace")
    .option("--cols <n>", "terminal width (default 120)", integerOption("--cols"))
    .option("--rows <n>", "terminal height (default 30)", integerOption("--rows"))
    .option("--secret-env <NAME[=ENV]>", "pass a secret as an environment variable (repeatable)", collect)
    .option("--id-only", "print only the shell id")
    .option("--json", "print JSON")
    .action(async (id: string, flags: Flags) => {
      const input = stripUndefined({
        workspace_id: id,
        cwd: flags.cwd,
        cols: flags.cols,
        rows: flags.rows,
        secret_env: flags.secretEnv,
      });
      if (flags.idOnly !== true)
        return setExit(
          await runForCli("shell_open", input, { json: wantsJson(flags), scope: "workspace-shell" }),
        );
      const { output, exitCode } = await runForCliQuiet("shell_open", input, {
        json: false,
        scope: "workspace-shell",
      });
      if (exitCode === 0) process.stdout.write(`${(output as { shell_id: string }).shell_id}\n`);
      setExit(exitCode);
    });
  shell
    .command("write")
    .argument("<workspace-id>", "workspace id")
    .argument("<shell-id>", "shell id")
    .requiredOption("--input <text>", "text to type")
    .option("--no-newline", "do not press Enter after the input")
    .option("--json", "print JSON")
    .action(async (id: string, shellId: string, flags: Flags) =>
      setExit(
        await runForCli(
          "shell_write",
          {
            workspace_id: id,
            shell_id: shellId,
            input: flags.input,
            append_newline: flags.newline !== false,
          },
          { json: wantsJson(flags), scope: "workspace-shell" },
        ),
      ),
    );
  shell
    .command("read")
    .argument("<workspace-id>", "workspace id")
    .argument("<shell-id>", "shell id")
    .option("--cursor <n>", "byte offset to read from (default 0)", integerOption("--cursor"))
    .option("--max-chars <n>", "read at most N bytes (default 65536)", integerOption("--max-chars"))
    .option("--plain", "render as plain text (no ANSI, carriage returns applied)")
    .option(
      "--wait-for-idle-ms <n>",
      "return once output has been quiet for N ms",
      integerOption("--wait-for-idle-ms"),
    )
    .option("--json", "print JSON")
    .action(async (id: string, shellId: string, flags: Flags) =>
      setExit(
        await runForCli(
          "shell_read",
          stripUndefined({
            workspace_id: id,
            shell_id: shellId,
            cursor: flags.cursor,
            max_chars: flags.maxChars,
            plain: flags.plain === true,
            wait_for_idle_ms: flags.waitForIdleMs,
          }),
          { json: wantsJson(flags), scope: "workspace-shell" },
        ),
      ),
    );
  shell
    .command("signal")
    .argument("<workspace-id>", "workspace id")
    .argument("<shell-id>", "shell id")
    .option("--signal <name>", "INT (default), QUIT, TERM, KILL, HUP, …")
    .option("--json", "print JSON")
    .action(async (id: string, shellId: string, flags: Flags) =>
      setExit(
        await runForCli(
          "shell_signal",
          stripUndefined({ workspace_id: id, shell_id: shellId, signal_name: flags.signal }),
          { json: wantsJson(flags), scope: "workspace-shell" },
        ),
      ),
    );
  shell
    .command("close")
    .argument("<workspace-id>", "workspace id")
    .argument("<shell-id>", "shell id")
    .option("--json", "print JSON")
    .action(async (id: string, shellId: string, flags: Flags) =>
      setExit(
        await runForCli(
          "shell_close",
          { workspace_id: id, shell_id: shellId },
          { json: wantsJson(flags), scope: "workspace-shell" },
        ),
      ),
    );

  const service = workspace.command("service").description("Long-running services in a workspace");
  service
    .command("start")
    .argument("<workspace-id>", "workspace id")
    .argument("<name>", "service name")
    .argument("[command...]", "command after --")
    .option("--cwd <dir>", "working directory inside /workspace")
    .option("--ready-file <path>", "ready once this file exists")
    .option("--ready-tcp <host:port>", "ready once this address accepts connections")
    .option("--ready-http <url>", "ready once this URL answers 2xx/3xx")
    .option("--ready-command <cmd>", "ready once this command exits 0")
    .option(
      "--ready-timeout-seconds <n>",
      "give up after N seconds (default 30)",
      integerOption("--ready-timeout-seconds"),
    )
    .option(
      "--ready-interval-ms <n>",
      "time between checks (default 500)",
      integerOption("--ready-interval-ms"),
    )
    .option("--secret-env <NAME[=ENV]>", "pass a secret as an environment variable (repeatable)", collect)
    .option(
      "--publish <host:guest>",
      "publish a guest port on the host's 127.0.0.1 (repeatable; host port 0 = any free one; needs --network-policy egress+published-ports)",
      collect,
    )
    .option("--json", "print JSON")
    .action(async (id: string, name: string, args: string[], flags: Flags) =>
      setExit(
        await runForCli(
          "service_start",
          stripUndefined({
            workspace_id: id,
            service_name: name,
            command: commandFromArgs(args),
            cwd: flags.cwd,
            readiness: readinessFrom(flags),
            ready_timeout_seconds: flags.readyTimeoutSeconds,
            ready_interval_ms: flags.readyIntervalMs,
            secret_env: flags.secretEnv,
            published_ports: flags.publish,
          }),
          { json: wantsJson(flags), scope: "workspace-service" },
        ),
      ),
    );
  service
    .command("list")
    .argument("<workspace-id>", "workspace id")
    .option("--json", "print JSON")
    .action(async (id: string, flags: Flags) =>
      setExit(
        await runForCli(
          "service_list",
          { workspace_id: id },
          { json: wantsJson(flags), scope: "workspace-service" },
        ),
      ),
    );
  for (const [verb, operation] of [
    ["status", "service_status"],
    ["stop", "service_stop"],
  ] as const) {
    service
      .command(verb)
      .argument("<workspace-id>", "workspace id")
      .argument("<name>", "service name")
      .option("--json", "print JSON")
      .action(async (id: string, name: string, flags: Flags) =>
        setExit(
          await runForCli(
            operation,
            { workspace_id: id, service_name: name },
            { json: wantsJson(flags), scope: "workspace-service" },
          ),
        ),
      );
  }
  service
    .command("logs")
    .argument("<workspace-id>", "workspace id")
    .argument("<name>", "service name")
    .option("--tail-lines <n>", "lines from the end (default 200)", integerOption("--tail-lines"))
    .option("--json", "print JSON")
    .action(async (id: string, name: string, flags: Flags) =>
      setExit(
        await runForCli(
          "service_logs",
          stripUndefined({ workspace_id: id, service_name: name, tail_lines: flags.tailLines }),
          { json: wantsJson(flags), scope: "workspace-service" },
        ),
      ),
    );
}
