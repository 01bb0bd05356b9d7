import { z } from "zod";
import type { ServiceInfo } from "../../sandbox/workspace/services.js";
import { commandParam } from "../limits.js";
import { defineOperation } from "../types.js";
import { kv, secretEnvParam, workspaceIdInput, workspaceIdParam } from "../workspace-params.js";

const handlers = () => import("../handlers/shells-services.js");

const shellIdParam = z.string().min(1).describe("Shell id, as returned by shell_open.");
const serviceNameParam = z.string().min(1).describe("Service name: 1-64 letters, digits, '.', '_' or '-'.");
const cwdParam = z.string().min(1).default("/workspace").describe("Working directory inside /workspace.");

export const shellOpenInput = z.object({
  workspace_id: workspaceIdParam,
  cwd: cwdParam,
  cols: z.number().int().min(10).max(1000).default(120).describe("Terminal width in columns."),
  rows: z.number().int().min(2).max(1000).default(30).describe("Terminal height in rows."),
  secret_env: secretEnvParam,
});

export const shellOpen = defineOperation({
  name: "shell_open",
  sdkMethod: "openShell",
  cli: {
    example: "SH=$(pyro workspace shell open $WS --cwd /workspace --id-only)",
    words: ["workspace", "shell", "open"],
    positionals: ["workspace_id"],
    scope: "workspace-shell",
  },
  description:
    "Open a persistent interactive shell (bash, or sh where the environment has no bash) on a terminal in the workspace. It outlives this call; use shell_write and shell_read.",
  input: shellOpenInput,
  profiles: ["workspace-full"],
  loadHandler: async () => (await handlers()).openShell,
  render: (output) =>
    `[workspace-shell] ${kv({ workspace_id: output.workspace_id, shell_id: output.shell_id, state: output.state, cwd: output.cwd, cols: output.cols, rows: output.rows })}`,
});

export const shellWriteInput = z.object({
  workspace_id: workspaceIdParam,
  shell_id: shellIdParam,
  input: z.string().describe("Text to type (at most 1 MiB)."),
  append_newline: z.boolean().default(true).describe("Press Enter after the input."),
});

export const shellWrite = defineOperation({
  name: "shell_write",
  sdkMethod: "writeShell",
  cli: {
    example: "pyro workspace shell write $WS $SH --input 'python3 -i'",
    words: ["workspace", "shell", "write"],
    positionals: ["workspace_id", "shell_id"],
    flags: { append_newline: "--no-newline" },
    scope: "workspace-shell",
  },
  description: "Type input into a shell (a newline is added unless append_newline is false).",
  input: shellWriteInput,
  profiles: ["workspace-full"],
  loadHandler: async () => (await handlers()).writeShell,
  render: (output) =>
    `[workspace-shell] ${kv({ shell_id: output.shell_id, bytes_written: output.bytes_written })}`,
});

export const shellReadInput = z.object({
  workspace_id: workspaceIdParam,
  shell_id: shellIdParam,
  cursor: z
    .number()
    .int()
    .min(0)
    .default(0)
    .describe("Byte offset to read from (next_cursor of the last read)."),
  max_chars: z
    .number()
    .int()
    .min(1)
    .max(1024 * 1024)
    .default(65536)
    .describe("Read at most this many bytes."),
  plain: z
    .boolean()
    .default(false)
    .describe("Strip ANSI and control noise; apply carriage returns and backspaces."),
  wait_for_idle_ms: z
    .number()
    .int()
    .min(1)
    .max(30_000)
    .nullable()
    .default(null)
    .describe("Wait until output has been quiet this long (at most 30 s) before returning."),
});

export const shellRead = defineOperation({
  name: "shell_read",
  sdkMethod: "readShell",
  cli: {
    example: "pyro workspace shell read $WS $SH --plain --wait-for-idle-ms 500",
    words: ["workspace", "shell", "read"],
    positionals: ["workspace_id", "shell_id"],
    scope: "workspace-shell",
  },
  description:
    "Read a shell's output from a cursor. plain renders it as a person would see it; wait_for_idle_ms returns once output has been quiet that long. Continue from next_cursor.",
  input: shellReadInput,
  profiles: ["workspace-full"],
  loadHandler: async () => (await handlers()).readShell,
  render: (output) =>
    `${output.output}${output.output.endsWith("\n") || output.output === "" ? "" : "\n"}[workspace-shell] ${kv({ shell_id: output.shell_id, cursor: output.cursor, next_cursor: output.next_cursor, dropped_bytes: output.dropped_bytes, state: output.state })}`,
});

export const shellSignalInput = z.object({
  workspace_id: workspaceIdParam,
  shell_id: shellIdParam,
  signal_name: z
    .string()
    .default("INT")
    .describe("INT, QUIT, TERM, KILL, HUP, USR1, USR2, CONT, STOP or WINCH."),
});

export const shellSignal = defineOperation({
  name: "shell_signal",
  sdkMethod: "signalShell",
  cli: {
    example: "pyro workspace shell signal $WS $SH --signal INT",
    words: ["workspace", "shell", "signal"],
    positionals: ["workspace_id", "shell_id"],
    flags: { signal_name: "--signal" },
    scope: "workspace-shell",
  },
  description:
    "Send a signal to a shell: INT and QUIT as the keyboard would (to the running job); TERM, KILL, HUP… to the shell.",
  input: shellSignalInput,
  profiles: ["workspace-full"],
  loadHandler: async () => (await handlers()).signalShell,
  render: (output) => `[workspace-shell] ${kv({ shell_id: output.shell_id, signal: output.signal })}`,
});

export const shellCloseInput = z.object({ workspace_id: workspaceIdParam, shell_id: shellIdParam });

export const shellClose = defineOperation({
  name: "shell_close",
  sdkMethod: "closeShell",
  cli: {
    example: "pyro workspace shell close $WS $SH",
    words: ["workspace", "shell", "close"],
    positionals: ["workspace_id", "shell_id"],
    scope: "workspace-shell",
  },
  description: "Close a shell (hang up, then kill what is left).",
  input: shellCloseInput,
  profiles: ["workspace-full"],
  loadHandler: async () => (await handlers()).closeShell,
  render: (output) => `closed shell ${output.shell_id}`,
});

export const readinessParam = z
  .discriminatedUnion("type", [
    z.object({
      type: z.literal("file"),
      path: z.string().min(1).describe("File whose existence means ready."),
    }),
    z.object({
      type: z.literal("tcp"),
      address: z.string().min(1).describe("HOST:PORT that accepts connections when ready."),
    }),
    z.object({
      type: z.literal("http"),
      url: z.string().min(1).describe("http(s) URL that answers 2xx/3xx when ready."),
    }),
    z.object({
      type: z.literal("command"),
      command: z.string().min(1).describe("Shell command that exits 0 when ready."),
    }),
  ])
  .nullable()
  .default(null)
  .describe("Readiness check: {type: file|tcp|http|command, …}; null = do not wait.");

function renderService(info: ServiceInfo): string {
  const line = `[workspace-service] ${kv({ workspace_id: info.workspace_id, service_name: info.service_name, state: info.state, ready: info.ready, pid: info.pid, exit_code: info.exit_code })}`;
  const ports = info.published_ports.map(
    (p) => `\n  published ${p.host_address}:${p.host_port} -> guest port ${p.guest_port}`,
  );
  return line + ports.join("");
}

export const serviceStartInput = z.object({
  workspace_id: workspaceIdParam,
  service_name: serviceNameParam,
  command: commandParam,
  cwd: cwdParam,
  readiness: readinessParam,
  ready_timeout_seconds: z
    .number()
    .int()
    .min(1)
    .max(3600)
    .default(30)
    .describe("Give up waiting for readiness after this long."),
  ready_interval_ms: z
    .number()
    .int()
    .min(50)
    .max(60_000)
    .default(500)
    .describe("Time between readiness checks."),
  secret_env: secretEnvParam,
  published_ports: z
    .array(z.string())
    .nullable()
    .default(null)
    .describe(
      "HOSTPORT:GUESTPORT pairs: each guest port answers on the host's 127.0.0.1:HOSTPORT (0 = any free port) until the service stops. Needs network policy egress+published-ports.",
    ),
});

export const serviceStart = defineOperation({
  name: "service_start",
  sdkMethod: "startService",
  cli: {
    example:
      "pyro workspace service start $WS web --ready-http http://127.0.0.1:8000/ --publish 8000:8000 -- python3 -m http.server 8000",
    words: ["workspace", "service", "start"],
    positionals: ["workspace_id", "service_name", "command"],
    flags: { published_ports: "--publish" },
    custom: ["readiness"],
    scope: "workspace-service",
  },
  description:
    "Start a long-running service in the workspace and wait for its readiness check. A readiness timeout stops it and reports its last log lines.",
  input: serviceStartInput,
  profiles: ["workspace-full"],
  loadHandler: async () => (await handlers()).startService,
  render: renderService,
});

export const serviceList = defineOperation({
  name: "service_list",
  sdkMethod: "listServices",
  cli: {
    example: "pyro workspace service list $WS",
    words: ["workspace", "service", "list"],
    positionals: ["workspace_id"],
    scope: "workspace-service",
  },
  description: "List a workspace's services with their state.",
  input: workspaceIdInput,
  profiles: ["workspace-full"],
  loadHandler: async () => (await handlers()).listServices,
  render: (output) => (output.count === 0 ? "no services" : output.services.map(renderService).join("\n")),
});

export const serviceStatusInput = z.object({
  workspace_id: workspaceIdParam,
  service_name: serviceNameParam,
});

export const serviceStatus = defineOperation({
  name: "service_status",
  sdkMethod: "statusService",
  cli: {
    example: "pyro workspace service status $WS web",
    words: ["workspace", "service", "status"],
    positionals: ["workspace_id", "service_name"],
    scope: "workspace-service",
  },
  description: "Show one service's state, pid and exit code.",
  input: serviceStatusInput,
  profiles: ["workspace-full"],
  loadHandler: async () => (await handlers()).statusService,
  render: renderService,
});

export const serviceLogsOpInput = z.object({
  workspace_id: workspaceIdParam,
  service_name: serviceNameParam,
  tail_lines: z.number().int().min(1).max(10_000).default(200).describe("How many lines from the end."),
});

export const serviceLogsOp = defineOperation({
  name: "service_logs",
  sdkMethod: "logsService",
  cli: {
    example: "pyro workspace service logs $WS web --tail-lines 50",
    words: ["workspace", "service", "logs"],
    positionals: ["workspace_id", "service_name"],
    scope: "workspace-service",
  },
  description: "The last lines of a service's output (kept outside /workspace).",
  input: serviceLogsOpInput,
  profiles: ["workspace-full"],
  loadHandler: async () => (await handlers()).logsService,
  render: (output) => output.logs,
});

export const serviceStopInput = z.object({ workspace_id: workspaceIdParam, service_name: serviceNameParam });

export const serviceStop = defineOperation({
  name: "service_stop",
  sdkMethod: "stopService",
  cli: {
    example: "pyro workspace service stop $WS web",
    words: ["workspace", "service", "stop"],
    positionals: ["workspace_id", "service_name"],
    scope: "workspace-service",
  },
  description: "Stop a service: TERM, then KILL after a grace period.",
  input: serviceStopInput,
  profiles: ["workspace-full"],
  loadHandler: async () => (await handlers()).stopService,
  render: renderService,
});

export const SHELL_SERVICE_OPERATIONS = [
  shellOpen,
  shellWrite,
  shellRead,
  shellSignal,
  shellClose,
  serviceStart,
  serviceList,
  serviceStatus,
  serviceLogsOp,
  serviceStop,
] as const;
