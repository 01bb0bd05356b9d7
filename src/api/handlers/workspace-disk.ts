import type { OperationContext } from "../types.js";
import type { z } from "zod";
import { diskExport, diskList, diskRead } from "../../sandbox/workspace/disk.js";
import {
  startWorkspace as startSandboxWorkspace,
  stopWorkspace as stopSandboxWorkspace,
} from "../../sandbox/workspace/lifecycle.js";
import { fileContent } from "../file-content.js";
import type {
  workspaceDiskExportInput,
  workspaceDiskListInput,
  workspaceDiskReadInput,
} from "../specs/workspace-disk.js";
import type { workspaceIdInput } from "../workspace-params.js";

type WorkspaceIdInput = z.output<typeof workspaceIdInput>;

export const stopWorkspace = (input: WorkspaceIdInput, context: OperationContext) =>
  stopSandboxWorkspace(context.store, input.workspace_id);

export const startWorkspace = (input: WorkspaceIdInput, context: OperationContext) =>
  startSandboxWorkspace(context.store, input.workspace_id);

export const listWorkspaceDisk = (
  input: z.output<typeof workspaceDiskListInput>,
  context: OperationContext,
) => diskList(context.store, input.workspace_id, input.path, input.recursive);

export const readWorkspaceDisk = async (
  input: z.output<typeof workspaceDiskReadInput>,
  context: OperationContext,
) =>
  fileContent(context.store, await diskRead(context.store, input.workspace_id, input.path, input.max_bytes));

export const exportWorkspaceDisk = (
  input: z.output<typeof workspaceDiskExportInput>,
  context: OperationContext,
) => diskExport(context.store, input.workspace_id, input.output_path, input.overwrite);
