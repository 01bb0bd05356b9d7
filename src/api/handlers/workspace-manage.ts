import type { OperationContext } from "../types.js";
import type { z } from "zod";
import {
  changeWorkspace,
  deleteWorkspace as deleteSandboxWorkspace,
  statusWorkspace as statusSandboxWorkspace,
  workspaceLogs,
} from "../../sandbox/workspace/manage.js";
import type { WorkspaceInfo } from "../../sandbox/workspace/views.js";
import type { workspaceUpdateInput } from "../specs/workspace.js";
import type { workspaceIdInput } from "../workspace-params.js";

type WorkspaceIdInput = z.output<typeof workspaceIdInput>;

export const updateWorkspace = (
  input: z.output<typeof workspaceUpdateInput>,
  context: OperationContext,
): Promise<WorkspaceInfo> =>
  changeWorkspace(context.store, input.workspace_id, {
    name: input.name,
    labels: input.labels,
    clearLabels: input.clear_labels,
    ttlSeconds: input.ttl_seconds,
  });

export const statusWorkspace = async (
  input: WorkspaceIdInput,
  context: OperationContext,
): Promise<WorkspaceInfo> => statusSandboxWorkspace(context.store, input.workspace_id);

export const logsWorkspace = async (input: WorkspaceIdInput, context: OperationContext) =>
  workspaceLogs(context.store, input.workspace_id);

export const deleteWorkspace = (input: WorkspaceIdInput, context: OperationContext) =>
  deleteSandboxWorkspace(context.store, input.workspace_id);
