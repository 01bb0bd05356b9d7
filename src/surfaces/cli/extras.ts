import type { vmRun } from "../../api/specs/vm.js";
import type { workspaceCreate, workspaceExec } from "../../api/specs/workspace.js";
import type { workspaceFileRead, workspacePatchApply } from "../../api/specs/workspace-files.js";
import type { serviceStart, shellOpen } from "../../api/specs/shells-services.js";
import type { workspaceFork } from "../../api/specs/workspace-pause.js";
import type { AnyOperation, InputSchema, Operation, OperationContext } from "../../api/types.js";
import { EXIT_TIMED_OUT, PyroError } from "../../errors/index.js";
import { forwardTo } from "./forward.js";
import { printJson, type CallOutcome } from "./output.js";

/** Parsed command options, as commander hands them to an action. */
export type Flags = Record<string, unknown>;

/** An option only the CLI has (it fills a parameter otherwise, or changes what is printed). */
export interface ExtraOption {
  flags: string;
  description: string;
}

type Call<Output> = (context?: Partial<OperationContext>) => Promise<CallOutcome<Output>>;

/**
 * What the CLI does for an operation beyond its generated flags: options of its own, the
 * parameters the spec left to it (`cli.custom`), and showing the result its own way.
 */
export interface CliExtra<Output = unknown> {
  options?: readonly ExtraOption[];
  fill?(flags: Flags, input: Record<string, unknown>): Promise<void> | void;
  /** Calls the operation and shows the result, returning the exit code; undefined leaves it to the default. */
  show?(call: Call<Output>, flags: Flags, input: Record<string, unknown>): Promise<number | undefined>;
}

const json = (flags: Flags): boolean => flags.json === true;

/** Live guest output on the terminal, unless the result is wanted as JSON. */
const liveOutput = (flags: Flags): Partial<OperationContext> =>
  json(flags) ? {} : { onStdout: forwardTo(process.stdout), onStderr: forwardTo(process.stderr) };

/** `--id-only`: print just the new thing's id, for scripts. */
function idOnly<Output>(describe: string, idOf: (output: Output) => string): CliExtra<Output> {
  return {
    options: [{ flags: "--id-only", description: `print only the ${describe}` }],
    show: async (call, flags) => {
      if (flags.idOnly !== true) return undefined;
      const outcome = await call();
      if (outcome.ok) process.stdout.write(`${idOf(outcome.output)}\n`);
      return outcome.ok ? 0 : outcome.exitCode;
    },
  };
}

/** The one readiness check given by --ready-file/--ready-tcp/--ready-http/--ready-command. */
function readinessFrom(flags: Flags): Record<string, string> | undefined {
  const checks: Array<[string, string, string]> = [
    ["readyFile", "file", "path"],
    ["readyTcp", "tcp", "address"],
    ["readyHttp", "http", "url"],
    ["readyCommand", "command", "command"],
  ];
  const given = checks
    .filter(([flag]) => typeof flags[flag] === "string")
    .map(([flag, type, key]) => ({ type, [key]: String(flags[flag]) }));
  if (given.length > 1) throw new PyroError("INVALID_ARGUMENT", "give at most one --ready-* check");
  return given[0];
}

/** `--password-stdin`: the registry password from standard input (never on the command line). */
const passwordStdin: CliExtra = {
  options: [
    { flags: "--password-stdin", description: "read the registry password (or token) from standard input" },
  ],
  fill: async (flags, input) => {
    if (flags.passwordStdin !== true) return;
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    const password = Buffer.concat(chunks)
      .toString("utf8")
      .replace(/\r?\n$/, "");
    if (password === "") throw new PyroError("INVALID_ARGUMENT", "--password-stdin read an empty password");
    input.password = password;
  },
};

type OutputOf<Op> = Op extends Operation<InputSchema, infer Output> ? Output : never;

/** The extra of one operation, typed by its spec (named, not imported: the CLI loads no spec to start). */
function entry<Op extends AnyOperation>(
  name: Op["name"],
  cliExtra: CliExtra<OutputOf<Op>>,
): readonly [string, CliExtra] {
  return [name, cliExtra as CliExtra];
}

/** The CLI's own behaviour, by operation name; everything else is generated from the spec. */
export const CLI_EXTRAS: ReadonlyMap<string, CliExtra> = new Map([
  ["env_pull", passwordStdin],
  ["env_push", passwordStdin],
  ["env_import", passwordStdin],
  entry<typeof vmRun>("vm_run", {
    show: async (call, flags, input) => {
      const outcome = await call(liveOutput(flags));
      if (!outcome.ok) return outcome.exitCode;
      const run = outcome.output;
      if (json(flags)) printJson(run);
      const timedOut = run.timed_out
        ? ` timed_out=true timeout_seconds=${String(input.timeout_seconds ?? 30)}`
        : "";
      process.stderr.write(
        `[run] environment=${run.environment} execution_mode=${run.execution_mode} backend=${run.backend} accel=${run.accel} exit_code=${run.exit_code} duration_ms=${run.duration_ms}${timedOut}\n`,
      );
      return run.timed_out ? EXIT_TIMED_OUT : run.exit_code;
    },
  }),
  entry<typeof workspaceExec>("workspace_exec", {
    show: async (call, flags) => {
      const outcome = await call(liveOutput(flags));
      if (!outcome.ok) return outcome.exitCode;
      if (json(flags)) printJson(outcome.output);
      const { renderWorkspaceExec } = await import("../../api/specs/workspace.js");
      process.stderr.write(`${renderWorkspaceExec(outcome.output)}\n`);
      return outcome.output.timed_out ? EXIT_TIMED_OUT : outcome.output.exit_code;
    },
  }),
  entry<typeof workspaceCreate>(
    "workspace_create",
    idOnly("new workspace's id", (info) => info.workspace_id),
  ),
  entry<typeof workspaceFork>(
    "workspace_fork",
    idOnly("new workspace's id", (info) => info.workspace_id),
  ),
  entry<typeof shellOpen>(
    "shell_open",
    idOnly("shell id", (shell) => shell.shell_id),
  ),
  entry<typeof workspaceFileRead>("workspace_file_read", {
    options: [{ flags: "--content-only", description: "print only the file's content" }],
    show: async (call, flags) => {
      if (flags.contentOnly !== true) return undefined;
      const outcome = await call();
      if (!outcome.ok) return outcome.exitCode;
      const read = outcome.output;
      process.stdout.write(read.encoding === "utf8" ? read.content : Buffer.from(read.content, "base64"));
      return 0;
    },
  }),
  entry<typeof workspacePatchApply>("workspace_patch_apply", {
    options: [
      { flags: "--patch <text>", description: "the unified diff text" },
      { flags: "--patch-file <file>", description: "host file holding the unified diff" },
    ],
    fill: async (flags, input) => {
      if ((flags.patch === undefined) === (flags.patchFile === undefined)) {
        throw new PyroError("INVALID_ARGUMENT", "give exactly one of --patch and --patch-file");
      }
      if (typeof flags.patch === "string") {
        input.patch = flags.patch;
        return;
      }
      const file = String(flags.patchFile);
      const { readFile } = await import("node:fs/promises");
      input.patch = await readFile(file, "utf8").catch((error: Error) => {
        throw new PyroError("FILE_NOT_FOUND", `cannot read ${file}: ${error.message}`, {
          hint: "--patch-file is a path on the host; check it exists and is readable.",
        });
      });
    },
  }),
  entry<typeof serviceStart>("service_start", {
    options: [
      { flags: "--ready-file <path>", description: "ready once this file exists" },
      { flags: "--ready-tcp <host:port>", description: "ready once this address accepts connections" },
      { flags: "--ready-http <url>", description: "ready once this URL answers 2xx/3xx" },
      { flags: "--ready-command <cmd>", description: "ready once this command exits 0" },
    ],
    fill: (flags, input) => {
      const readiness = readinessFrom(flags);
      if (readiness !== undefined) input.readiness = readiness;
    },
  }),
]);
