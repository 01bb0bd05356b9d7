import { z } from "zod";
import { NETWORK_POLICIES } from "../../sandbox/network/policy.js";
import type { WorkspaceExecOutcome } from "../../sandbox/workspace/exec.js";
import type { WorkspaceInfo } from "../../sandbox/workspace/views.js";
import {
  allowHostCompatParam,
  allowPrivateEgressParam,
  commandParam,
  userParam,
  environmentParam,
  memMibParam,
  timeoutSecondsParam,
  ttlSecondsParam,
  newTtlSecondsParam,
  vcpuCountParam,
} from "../limits.js";
import { defineOperation } from "../types.js";
import { workspaceList } from "./listings.js";
import {
  kv,
  labelsParam,
  secretEnvParam,
  snapshotNameParam,
  workspaceIdInput,
  workspaceIdParam,
} from "../workspace-params.js";

const handlers = () => import("../handlers/workspace.js");
const manage = () => import("../handlers/workspace-manage.js");

export function renderWorkspace(info: WorkspaceInfo): string {
  const seed =
    info.seed.mode === "empty"
      ? "empty"
      : `${info.seed.mode} ${info.seed.source} (${info.seed.entry_count} entries)`;
  const labels = Object.entries(info.labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(", ");
  return [
    `Workspace ${info.workspace_id}${info.name ? ` (${info.name})` : ""}`,
    `  environment      ${info.environment}`,
    `  state            ${info.state}${info.ended ? ` (${info.ended})` : ""}`,
    `  workspace path   ${info.workspace_path}`,
    `  seed             ${seed}`,
    `  network policy   ${info.network_policy}${info.allow_private_egress ? ", private ranges allowed" : ""}${info.guest_ip ? ` (guest address ${info.guest_ip})` : ""}`,
    ...(info.published_ports ?? []).map(
      (p) =>
        `  published        ${p.host_address}:${p.host_port} -> guest port ${p.guest_port}${p.service ? ` (${p.service})` : ""}`,
    ),
    `  execution mode   ${info.execution_mode ?? "-"} (backend ${info.backend ?? "-"}, accel ${info.accel ?? "-"})`,
    `  resources        ${info.vcpu_count} vCPU, ${info.mem_mib} MiB, ttl ${info.ttl_seconds}s (expires ${info.expires_at ?? "-"})`,
    `  commands         ${info.command_count} (resets ${info.reset_count})`,
    ...(labels ? [`  labels           ${labels}`] : []),
    `  last activity    ${info.last_activity_at}`,
  ].join("\n");
}

const seedPathParam = z
  .string()
  .min(1)
  .nullable()
  .default(null)
  .describe(
    "Host directory or .tar/.tar.gz/.tgz archive copied into /workspace before the baseline is taken.",
  );

const WORKSPACE_TTL =
  "Seconds without activity (any request to the workspace) until its VM is paused or stopped; a workspace is never deleted for it.";

export const workspaceCreateInput = z.object({
  environment: environmentParam,
  vcpu_count: vcpuCountParam,
  mem_mib: memMibParam,
  ttl_seconds: ttlSecondsParam.describe(WORKSPACE_TTL),
  allow_host_compat: allowHostCompatParam,
  seed_path: seedPathParam,
  name: z.string().nullable().default(null).describe("A human name for the workspace."),
  labels: labelsParam
    .nullable()
    .default(null)
    .describe('Labels as key/value pairs, e.g. {"task": "fix-login"}.'),
  backend: z
    .enum(["auto", "qemu", "firecracker", "host"])
    .optional()
    .describe("Execution backend (default auto). 'host' needs allow_host_compat."),
  secrets: z
    .record(z.string(), z.string())
    .nullable()
    .default(null)
    .describe("Secrets as NAME → value; placed at /run/pyro-secrets/NAME (0600) and never shown back."),
  secret_files: z
    .record(z.string(), z.string())
    .nullable()
    .default(null)
    .describe("Secrets as NAME → host file holding the value."),
  network_policy: z
    .enum(NETWORK_POLICIES)
    .default("off")
    .describe(
      "off: loopback only. egress: outbound NAT and DNS (the host's loopback stays unreachable). egress+published-ports: also lets services publish guest ports on the host's 127.0.0.1.",
    ),
  allow_private_egress: allowPrivateEgressParam,
});

export const workspaceCreate = defineOperation({
  name: "workspace_create",
  sdkMethod: "createWorkspace",
  cli: {
    example: "WS=$(pyro workspace create debian:12 --seed-path ./my-repo --name my-repo --id-only)",
    words: ["workspace", "create"],
    positionals: ["environment"],
    flags: { labels: "--label", secrets: "--secret", secret_files: "--secret-file" },
  },
  description:
    "Create a persistent workspace: its own microVM with /workspace seeded from a host directory or archive. The create-time /workspace becomes the baseline for diff and reset.",
  input: workspaceCreateInput,
  profiles: ["workspace-core", "workspace-full"],
  fullProfileOnly: ["secrets", "secret_files", "network_policy", "allow_private_egress"],
  hostPaths: { seed_path: "read", secret_files: "read" },
  loadHandler: async () => (await handlers()).createWorkspace,
  render: renderWorkspace,
});

export const workspaceUpdateInput = z.object({
  workspace_id: workspaceIdParam,
  name: z.string().optional().describe("New name."),
  labels: labelsParam.optional(),
  clear_labels: z.array(z.string()).optional().describe("Label keys to remove."),
  ttl_seconds: newTtlSecondsParam.optional().describe(`New TTL, counted from now. ${WORKSPACE_TTL}`),
});

export const workspaceUpdate = defineOperation({
  name: "workspace_update",
  sdkMethod: "updateWorkspace",
  cli: {
    example: "pyro workspace update $WS --label ticket=BUG-123 --ttl-seconds 7200",
    words: ["workspace", "update"],
    positionals: ["workspace_id"],
    flags: { labels: "--label", clear_labels: "--clear-label" },
    scope: "workspace",
  },
  description:
    "Rename a workspace, set or clear labels, or change its TTL (a running VM's expiry moves at once).",
  input: workspaceUpdateInput,
  profiles: ["workspace-core", "workspace-full"],
  loadHandler: async () => (await manage()).updateWorkspace,
  render: renderWorkspace,
});

export const workspaceStatus = defineOperation({
  name: "workspace_status",
  sdkMethod: "statusWorkspace",
  cli: {
    example: "pyro workspace status $WS",
    words: ["workspace", "status"],
    positionals: ["workspace_id"],
  },
  description: "Show a workspace's state, sandbox, seed, resources and activity.",
  input: workspaceIdInput,
  profiles: ["workspace-core", "workspace-full"],
  loadHandler: async () => (await manage()).statusWorkspace,
  render: renderWorkspace,
});

export const workspaceLogsOp = defineOperation({
  name: "workspace_logs",
  sdkMethod: "logsWorkspace",
  cli: { example: "pyro workspace logs $WS", words: ["workspace", "logs"], positionals: ["workspace_id"] },
  description: "Show the command history of a workspace: sequence, command, cwd, exit code, duration.",
  input: workspaceIdInput,
  profiles: ["workspace-core", "workspace-full"],
  loadHandler: async () => (await manage()).logsWorkspace,
  render: (output) =>
    output.count === 0
      ? "no commands yet"
      : output.commands
          .map(
            (c) =>
              `#${c.sequence} ${kv({ exit_code: c.exit_code, duration_ms: c.duration_ms, cwd: c.cwd })}${c.timed_out ? " timed_out=true" : ""}  ${Array.isArray(c.command) ? c.command.join(" ") : c.command}`,
          )
          .join("\n"),
});

export const workspaceDelete = defineOperation({
  name: "workspace_delete",
  sdkMethod: "deleteWorkspace",
  cli: {
    example: "pyro workspace delete $WS",
    words: ["workspace", "delete"],
    positionals: ["workspace_id"],
  },
  description: "Stop a workspace's sandbox and delete it with its baseline and snapshots.",
  input: workspaceIdInput,
  profiles: ["workspace-core", "workspace-full"],
  loadHandler: async () => (await manage()).deleteWorkspace,
  render: (output) => `deleted workspace ${output.workspace_id}`,
});

export const workspaceSyncPushInput = z.object({
  workspace_id: workspaceIdParam,
  source_path: z.string().min(1).describe("Host path: a directory, a file, or an archive."),
  dest: z.string().min(1).default("/workspace").describe("Destination directory inside /workspace."),
});

export const workspaceSyncPush = defineOperation({
  name: "workspace_sync_push",
  sdkMethod: "pushWorkspaceSync",
  cli: {
    example: "pyro workspace sync push $WS ./src --dest /workspace/src",
    words: ["workspace", "sync", "push"],
    positionals: ["workspace_id", "source_path"],
    scope: "workspace-sync",
  },
  description:
    "Copy a host directory, file or .tar/.tar.gz/.tgz archive into the workspace (not atomic). Unsafe archives are refused before anything is written.",
  input: workspaceSyncPushInput,
  profiles: ["workspace-core", "workspace-full"],
  hostPaths: { source_path: "read" },
  loadHandler: async () => (await handlers()).pushWorkspaceSync,
  render: (output) =>
    `[workspace-sync] ${kv({ workspace_id: output.workspace_id, mode: output.mode, source: output.source, destination: output.destination, entry_count: output.entry_count, bytes_written: output.bytes_written, execution_mode: output.execution_mode })}`,
});

export function renderWorkspaceExec(outcome: WorkspaceExecOutcome): string {
  return `[workspace-exec] ${kv({ workspace_id: outcome.workspace_id, sequence: outcome.sequence, cwd: outcome.cwd, execution_mode: outcome.execution_mode, exit_code: outcome.exit_code, duration_ms: outcome.duration_ms })}${outcome.timed_out ? " timed_out=true" : ""}`;
}

export const workspaceExecInput = z.object({
  workspace_id: workspaceIdParam,
  command: commandParam,
  timeout_seconds: timeoutSecondsParam,
  cwd: z.string().min(1).optional().describe("Working directory inside /workspace (default /workspace)."),
  secret_env: secretEnvParam,
  user: userParam,
});

export const workspaceExec = defineOperation({
  name: "workspace_exec",
  sdkMethod: "execWorkspace",
  cli: {
    example: "pyro workspace exec $WS --timeout-seconds 300 -- make test",
    words: ["workspace", "exec"],
    positionals: ["workspace_id", "command"],
  },
  description:
    "Run a command in a workspace (cwd /workspace by default). Returns stdout, stderr, exit code and the command's sequence number; history is kept.",
  input: workspaceExecInput,
  profiles: ["workspace-core", "workspace-full"],
  fullProfileOnly: ["secret_env"],
  loadHandler: async () => (await handlers()).execWorkspace,
  render: (outcome: WorkspaceExecOutcome) =>
    [outcome.stdout, outcome.stderr ? `[stderr]\n${outcome.stderr}` : "", renderWorkspaceExec(outcome)]
      .filter((part) => part !== "")
      .join("\n"),
});

export const workspaceResetInput = z.object({
  workspace_id: workspaceIdParam,
  snapshot: snapshotNameParam.default("baseline"),
});

export const workspaceReset = defineOperation({
  name: "workspace_reset",
  sdkMethod: "resetWorkspace",
  cli: {
    example: "pyro workspace reset $WS --snapshot before-fix",
    words: ["workspace", "reset"],
    positionals: ["workspace_id"],
  },
  description:
    "Recreate the workspace's sandbox from a fresh environment and restore /workspace from the baseline or a named snapshot. Clears command history; keeps the id and the diff baseline.",
  input: workspaceResetInput,
  profiles: ["workspace-core", "workspace-full"],
  loadHandler: async () => (await handlers()).resetWorkspace,
  render: renderWorkspace,
});

export const WORKSPACE_OPERATIONS = [
  workspaceCreate,
  workspaceList,
  workspaceUpdate,
  workspaceStatus,
  workspaceLogsOp,
  workspaceDelete,
  workspaceSyncPush,
  workspaceExec,
  workspaceReset,
] as const;
