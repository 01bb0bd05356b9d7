import type { OperationContext } from "../types.js";
import type { z } from "zod";
import { parsePortSpec } from "../../sandbox/network/publishing.js";
import { checkHttpUrl, parseTcpTarget, type Readiness } from "../../sandbox/workspace/readiness.js";
import {
  listServices as listSandboxServices,
  serviceLogs,
  startService as startSandboxService,
  statusService as statusSandboxService,
  stopService as stopSandboxService,
} from "../../sandbox/workspace/services.js";
import {
  closeShell as closeSandboxShell,
  openShell as openSandboxShell,
  readShell as readSandboxShell,
  signalShell as signalSandboxShell,
  writeShell as writeSandboxShell,
} from "../../sandbox/workspace/shells.js";
import type {
  readinessParam,
  serviceLogsOpInput,
  serviceStartInput,
  serviceStatusInput,
  serviceStopInput,
  shellCloseInput,
  shellOpenInput,
  shellReadInput,
  shellSignalInput,
  shellWriteInput,
} from "../specs/shells-services.js";
import type { workspaceIdInput } from "../workspace-params.js";

export const openShell = (input: z.output<typeof shellOpenInput>, context: OperationContext) =>
  openSandboxShell(context.store, input.workspace_id, {
    cwd: input.cwd,
    cols: input.cols,
    rows: input.rows,
    secretEnv: input.secret_env ?? [],
  });

export const writeShell = (input: z.output<typeof shellWriteInput>, context: OperationContext) =>
  writeSandboxShell(context.store, input.workspace_id, input.shell_id, input.input, input.append_newline);

export const readShell = (input: z.output<typeof shellReadInput>, context: OperationContext) =>
  readSandboxShell(context.store, input.workspace_id, input.shell_id, {
    cursor: input.cursor,
    maxChars: input.max_chars,
    plain: input.plain,
    waitForIdleMs: input.wait_for_idle_ms ?? undefined,
  });

export const signalShell = (input: z.output<typeof shellSignalInput>, context: OperationContext) =>
  signalSandboxShell(context.store, input.workspace_id, input.shell_id, input.signal_name);

export const closeShell = (input: z.output<typeof shellCloseInput>, context: OperationContext) =>
  closeSandboxShell(context.store, input.workspace_id, input.shell_id);

function toReadiness(value: z.output<typeof readinessParam>): Readiness | null {
  if (value === null) return null;
  if (value.type === "tcp") return { type: "tcp", ...parseTcpTarget(value.address) };
  if (value.type === "http") return { type: "http", url: checkHttpUrl(value.url) };
  return value;
}

export const startService = (input: z.output<typeof serviceStartInput>, context: OperationContext) =>
  startSandboxService(context.store, input.workspace_id, input.service_name, {
    command: input.command,
    cwd: input.cwd,
    readiness: toReadiness(input.readiness),
    readyTimeoutSeconds: input.ready_timeout_seconds,
    readyIntervalMs: input.ready_interval_ms,
    secretEnv: input.secret_env ?? [],
    publish: (input.published_ports ?? []).map(parsePortSpec),
  });

export const listServices = (input: z.output<typeof workspaceIdInput>, context: OperationContext) =>
  listSandboxServices(context.store, input.workspace_id);

export const statusService = (input: z.output<typeof serviceStatusInput>, context: OperationContext) =>
  statusSandboxService(context.store, input.workspace_id, input.service_name);

export const logsService = (input: z.output<typeof serviceLogsOpInput>, context: OperationContext) =>
  serviceLogs(context.store, input.workspace_id, input.service_name, input.tail_lines);

export const stopService = (input: z.output<typeof serviceStopInput>, context: OperationContext) =>
  stopSandboxService(context.store, input.workspace_id, input.service_name);
