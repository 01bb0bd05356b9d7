import type { z } from "zod";
import {
  changeWorkspace,
  deleteWorkspace as deleteSandboxWorkspace,
  statusWorkspace as statusSandboxWorkspace,
  workspaceLogs,
} from "../../sandbox/workspace/manage.js";
import {
  listWorkspaces as listSandboxWorkspaces,
  type WorkspaceInfo,
} from "../../sandbox/workspace/views.js";
import { reapExpired } from "../../sandbox/vm-views.js";
import type { workspaceUpdateInput } from "../specs/workspace.js";
import type { workspaceIdInput } from "../workspace-params.js";

type WorkspaceIdInput = z.output<typeof workspaceIdInput>;

export const listWorkspaces = async (): Promise<{ workspaces: WorkspaceInfo[]; count: number }> => {
  reapExpired(); // expired workspaces go before they would be listed
  const workspaces = listSandboxWorkspaces();
  return { workspaces, count: workspaces.length };
};

export const updateWorkspace = (input: z.output<typeof workspaceUpdateInput>): Promise<WorkspaceInfo> =>
  changeWorkspace(input.workspace_id, {
    name: input.name,
    labels: input.labels,
    clearLabels: input.clear_labels,
  });

export const statusWorkspace = async (input: WorkspaceIdInput): Promise<WorkspaceInfo> =>
  statusSandboxWorkspace(input.workspace_id);

export const logsWorkspace = async (input: WorkspaceIdInput) => workspaceLogs(input.workspace_id);

export const deleteWorkspace = (input: WorkspaceIdInput) => deleteSandboxWorkspace(input.workspace_id);
