import type { OperationContext } from "../types.js";
import type { z } from "zod";
import { diffWorkspace as diffSandboxWorkspace } from "../../sandbox/workspace/diff.js";
import { exportWorkspace as exportSandboxWorkspace } from "../../sandbox/workspace/export.js";
import {
  applyWorkspacePatch as applySandboxPatch,
  listWorkspaceFiles as listSandboxFiles,
  readWorkspaceFile as readSandboxFile,
  writeWorkspaceFile as writeSandboxFile,
} from "../../sandbox/workspace/files.js";
import { fileContent } from "../file-content.js";
import type {
  workspaceExportInput,
  workspaceFileListInput,
  workspaceFileReadInput,
  workspaceFileWriteInput,
  workspacePatchApplyInput,
} from "../specs/workspace-files.js";
import type { workspaceIdInput } from "../workspace-params.js";

export const listWorkspaceFiles = (
  input: z.output<typeof workspaceFileListInput>,
  context: OperationContext,
) => listSandboxFiles(context.store, input.workspace_id, input.path, input.recursive);

export const readWorkspaceFile = async (
  input: z.output<typeof workspaceFileReadInput>,
  context: OperationContext,
) =>
  fileContent(
    context.store,
    await readSandboxFile(context.store, input.workspace_id, input.path, input.max_bytes),
  );

export const writeWorkspaceFile = (
  input: z.output<typeof workspaceFileWriteInput>,
  context: OperationContext,
) =>
  writeSandboxFile(context.store, input.workspace_id, input.path, {
    ...(input.text !== undefined ? { text: input.text } : {}),
    ...(input.text_file !== undefined ? { textFile: input.text_file } : {}),
  });

export const applyWorkspacePatch = (
  input: z.output<typeof workspacePatchApplyInput>,
  context: OperationContext,
) => applySandboxPatch(context.store, input.workspace_id, input.patch, input.strip);

export const diffWorkspace = (input: z.output<typeof workspaceIdInput>, context: OperationContext) =>
  diffSandboxWorkspace(context.store, input.workspace_id);

export const exportWorkspace = (input: z.output<typeof workspaceExportInput>, context: OperationContext) =>
  exportSandboxWorkspace(
    context.store,
    input.workspace_id,
    input.path,
    input.output_path,
    input.overwrite,
    input.trust_git_metadata,
  );
