import { NetworkPolicy } from "../sandbox/network/policy.js";
import { z } from "zod";
import { createWorkspace } from "../sandbox/workspace/create.js";
import { execWorkspace, type WorkspaceExecOutcome } from "../sandbox/workspace/exec.js";
import {
  changeWorkspace,
  deleteWorkspace,
  statusWorkspace,
  workspaceLogs,
} from "../sandbox/workspace/manage.js";
import { resetWorkspace } from "../sandbox/workspace/reset.js";
import { pushWorkspaceSync } from "../sandbox/workspace/sync.js";
import { listWorkspaces, type WorkspaceInfo } from "../sandbox/workspace/views.js";
import { reapExpired } from "../sandbox/reaper.js";
import {
  allowHostCompatParam,
  allowPrivateEgressParam,
  commandParam,
  environmentParam,
  memMibParam,
  timeoutSecondsParam,
  ttlSecondsParam,
  vcpuCountParam,
} from "./limits.js";
import { defineOperation } from "./types.js";
import { kv, labelsParam, secretEnvParam, snapshotNameParam, workspaceIdParam } from "./workspace-params.js";

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

export const workspaceCreate = defineOperation({
  name: "workspace_create",
  sdkMethod: "createWorkspace",
  cli: ["workspace", "create"],
  description:
    "Create a persistent workspace: its own microVM with /workspace seeded from a host directory or archive. The create-time /workspace becomes the baseline for diff and reset.",
  input: z.object({
    environment: environmentParam,
    vcpu_count: vcpuCountParam,
    mem_mib: memMibParam,
    ttl_seconds: ttlSecondsParam,
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
    network_policy: NetworkPolicy.default("off").describe(
      "off: loopback only. egress: outbound NAT and DNS (the host's loopback stays unreachable). egress+published-ports: also lets services publish guest ports on the host's 127.0.0.1.",
    ),
    allow_private_egress: allowPrivateEgressParam,
  }),
  profiles: ["workspace-core", "workspace-full"],
  fullProfileOnly: ["secrets", "secret_files", "network_policy", "allow_private_egress"],
  hostPaths: { seed_path: "read", secret_files: "read" },
  handler: async (input, context) => {
    await reapExpired(context.store); // each create also clears what expired, so TTLs hold without a cron job
    return createWorkspace(context.store, {
      secrets: input.secrets ?? {},
      secretFiles: input.secret_files ?? {},
      networkPolicy: input.network_policy,
      allowPrivateEgress: input.allow_private_egress,
      environment: input.environment,
      vcpuCount: input.vcpu_count,
      memMib: input.mem_mib,
      ttlSeconds: input.ttl_seconds,
      allowHostCompat: input.allow_host_compat,
      backend: input.backend === "auto" ? undefined : input.backend,
      seedPath: input.seed_path,
      name: input.name,
      labels: input.labels ?? {},
      onPhase: context.onPhase,
    });
  },
  render: renderWorkspace,
});

export const workspaceList = defineOperation({
  name: "workspace_list",
  sdkMethod: "listWorkspaces",
  cli: ["workspace", "list"],
  description: "List workspaces, most recent mutating activity first.",
  input: z.object({}),
  profiles: ["workspace-core", "workspace-full"],
  handler: async (_input, context) => {
    await reapExpired(context.store); // expired workspaces go before they would be listed
    const workspaces = listWorkspaces(context.store);
    return { workspaces, count: workspaces.length };
  },
  render: (output) =>
    output.count === 0
      ? "no workspaces"
      : output.workspaces
          .map(
            (w) =>
              `${w.workspace_id}  ${w.state.padEnd(8)} ${w.environment}  ${w.name ?? "-"}  last activity ${w.last_activity_at}`,
          )
          .join("\n"),
});

export const workspaceUpdate = defineOperation({
  name: "workspace_update",
  sdkMethod: "updateWorkspace",
  cli: ["workspace", "update"],
  description: "Rename a workspace, set labels, or clear labels.",
  input: z.object({
    workspace_id: workspaceIdParam,
    name: z.string().optional().describe("New name."),
    labels: labelsParam.optional(),
    clear_labels: z.array(z.string()).optional().describe("Label keys to remove."),
  }),
  profiles: ["workspace-core", "workspace-full"],
  handler: (input, context) =>
    changeWorkspace(context.store, input.workspace_id, {
      name: input.name,
      labels: input.labels,
      clearLabels: input.clear_labels,
    }),
  render: renderWorkspace,
});

export const workspaceStatus = defineOperation({
  name: "workspace_status",
  sdkMethod: "statusWorkspace",
  cli: ["workspace", "status"],
  description: "Show a workspace's state, sandbox, seed, resources and activity.",
  input: z.object({ workspace_id: workspaceIdParam }),
  profiles: ["workspace-core", "workspace-full"],
  handler: async (input, context) => statusWorkspace(context.store, input.workspace_id),
  render: renderWorkspace,
});

export const workspaceLogsOp = defineOperation({
  name: "workspace_logs",
  sdkMethod: "logsWorkspace",
  cli: ["workspace", "logs"],
  description: "Show the command history of a workspace: sequence, command, cwd, exit code, duration.",
  input: z.object({ workspace_id: workspaceIdParam }),
  profiles: ["workspace-core", "workspace-full"],
  handler: async (input, context) => workspaceLogs(context.store, input.workspace_id),
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
  cli: ["workspace", "delete"],
  description: "Stop a workspace's sandbox and delete it with its baseline and snapshots.",
  input: z.object({ workspace_id: workspaceIdParam }),
  profiles: ["workspace-core", "workspace-full"],
  handler: (input, context) => deleteWorkspace(context.store, input.workspace_id),
  render: (output) => `deleted workspace ${output.workspace_id}`,
});

export const workspaceSyncPush = defineOperation({
  name: "workspace_sync_push",
  sdkMethod: "pushWorkspaceSync",
  cli: ["workspace", "sync", "push"],
  description:
    "Copy a host directory, file or .tar/.tar.gz/.tgz archive into the workspace (not atomic). Unsafe archives are refused before anything is written.",
  input: z.object({
    workspace_id: workspaceIdParam,
    source_path: z.string().min(1).describe("Host path: a directory, a file, or an archive."),
    dest: z.string().min(1).default("/workspace").describe("Destination directory inside /workspace."),
  }),
  profiles: ["workspace-core", "workspace-full"],
  hostPaths: { source_path: "read" },
  handler: (input, context) =>
    pushWorkspaceSync(context.store, input.workspace_id, input.source_path, input.dest),
  render: (output) =>
    `[workspace-sync] ${kv({ workspace_id: output.workspace_id, mode: output.mode, source: output.source, destination: output.destination, entry_count: output.entry_count, bytes_written: output.bytes_written, execution_mode: output.execution_mode })}`,
});

export function renderWorkspaceExec(outcome: WorkspaceExecOutcome): string {
  return `[workspace-exec] ${kv({ workspace_id: outcome.workspace_id, sequence: outcome.sequence, cwd: outcome.cwd, execution_mode: outcome.execution_mode, exit_code: outcome.exit_code, duration_ms: outcome.duration_ms })}${outcome.timed_out ? " timed_out=true" : ""}`;
}

export const workspaceExec = defineOperation({
  name: "workspace_exec",
  sdkMethod: "execWorkspace",
  cli: ["workspace", "exec"],
  description:
    "Run a command in a workspace (cwd /workspace by default). Returns stdout, stderr, exit code and the command's sequence number; history is kept.",
  input: z.object({
    workspace_id: workspaceIdParam,
    command: commandParam,
    timeout_seconds: timeoutSecondsParam,
    cwd: z.string().min(1).optional().describe("Working directory inside /workspace (default /workspace)."),
    secret_env: secretEnvParam,
  }),
  profiles: ["workspace-core", "workspace-full"],
  fullProfileOnly: ["secret_env"],
  handler: (input, context) =>
    execWorkspace(context.store, input.workspace_id, {
      secretEnv: input.secret_env ?? [],
      command: input.command,
      timeoutSeconds: input.timeout_seconds,
      ...(input.cwd ? { cwd: input.cwd } : {}),
      ...(context.onStdout ? { onStdout: context.onStdout } : {}),
      ...(context.onStderr ? { onStderr: context.onStderr } : {}),
    }),
  render: (outcome: WorkspaceExecOutcome) =>
    [outcome.stdout, outcome.stderr ? `[stderr]\n${outcome.stderr}` : "", renderWorkspaceExec(outcome)]
      .filter((part) => part !== "")
      .join("\n"),
});

export const workspaceReset = defineOperation({
  name: "workspace_reset",
  sdkMethod: "resetWorkspace",
  cli: ["workspace", "reset"],
  description:
    "Recreate the workspace's sandbox from a fresh environment and restore /workspace from the baseline or a named snapshot. Clears command history; keeps the id and the diff baseline.",
  input: z.object({
    workspace_id: workspaceIdParam,
    snapshot: snapshotNameParam.default("baseline"),
  }),
  profiles: ["workspace-core", "workspace-full"],
  handler: (input, context) =>
    resetWorkspace(context.store, input.workspace_id, input.snapshot, context.onPhase),
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
];
