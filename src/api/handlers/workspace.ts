import type { z } from "zod";
import { createWorkspace as createSandboxWorkspace } from "../../sandbox/workspace/create.js";
import {
  execWorkspace as execSandboxWorkspace,
  type WorkspaceExecOutcome,
} from "../../sandbox/workspace/exec.js";
import { resetWorkspace as resetSandboxWorkspace } from "../../sandbox/workspace/reset.js";
import { pushWorkspaceSync as pushSandboxSync } from "../../sandbox/workspace/sync.js";
import type { WorkspaceInfo } from "../../sandbox/workspace/views.js";
import { reapExpired } from "../../sandbox/reaper.js";
import type { OperationContext } from "../types.js";
import type {
  workspaceCreateInput,
  workspaceExecInput,
  workspaceResetInput,
  workspaceSyncPushInput,
} from "../specs/workspace.js";

export const createWorkspace = async (
  input: z.output<typeof workspaceCreateInput>,
  context: OperationContext,
): Promise<WorkspaceInfo> => {
  await reapExpired(context.store); // each create also clears what expired, so TTLs hold without a cron job
  return createSandboxWorkspace(context.store, {
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
};

export const pushWorkspaceSync = (
  input: z.output<typeof workspaceSyncPushInput>,
  context: OperationContext,
) => pushSandboxSync(context.store, input.workspace_id, input.source_path, input.dest);

export const execWorkspace = (
  input: z.output<typeof workspaceExecInput>,
  context: OperationContext,
): Promise<WorkspaceExecOutcome> =>
  execSandboxWorkspace(context.store, input.workspace_id, {
    secretEnv: input.secret_env ?? [],
    ...(input.user === undefined ? {} : { user: input.user }),
    command: input.command,
    timeoutSeconds: input.timeout_seconds,
    ...(input.cwd ? { cwd: input.cwd } : {}),
    ...(context.onStdout ? { onStdout: context.onStdout } : {}),
    ...(context.onStderr ? { onStderr: context.onStderr } : {}),
  });

export const resetWorkspace = (
  input: z.output<typeof workspaceResetInput>,
  context: OperationContext,
): Promise<WorkspaceInfo> =>
  resetSandboxWorkspace(context.store, input.workspace_id, input.snapshot, context.onPhase);
