import type { z } from "zod";
import { forkWorkspace as forkSandboxWorkspace } from "../../sandbox/workspace/fork.js";
import {
  pauseWorkspace as pauseSandboxWorkspace,
  resumeWorkspace as resumeSandboxWorkspace,
} from "../../sandbox/workspace/pause.js";
import type { OperationContext } from "../types.js";
import type { workspaceForkInput } from "../specs/workspace-pause.js";
import type { workspaceIdInput } from "../workspace-params.js";

type WorkspaceIdInput = z.output<typeof workspaceIdInput>;

export const pauseWorkspace = (input: WorkspaceIdInput, context: OperationContext) =>
  pauseSandboxWorkspace(context.store, input.workspace_id);

export const resumeWorkspace = (input: WorkspaceIdInput, context: OperationContext) =>
  resumeSandboxWorkspace(context.store, input.workspace_id);

export const forkWorkspace = (input: z.output<typeof workspaceForkInput>, context: OperationContext) =>
  forkSandboxWorkspace(context.store, input.workspace_id, { name: input.name });
