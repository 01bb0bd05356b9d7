import type { OperationContext } from "../types.js";
import type { z } from "zod";
import {
  createSnapshot as createSandboxSnapshot,
  deleteSnapshot as deleteSandboxSnapshot,
  listSnapshots as listSandboxSnapshots,
} from "../../sandbox/workspace/snapshots.js";
import type { snapshotCreateInput, snapshotDeleteInput } from "../specs/snapshots.js";
import type { workspaceIdInput } from "../workspace-params.js";

export const createSnapshot = (input: z.output<typeof snapshotCreateInput>, context: OperationContext) =>
  createSandboxSnapshot(context.store, input.workspace_id, input.snapshot_name);

export const listSnapshots = async (input: z.output<typeof workspaceIdInput>, context: OperationContext) =>
  listSandboxSnapshots(context.store, input.workspace_id);

export const deleteSnapshot = (input: z.output<typeof snapshotDeleteInput>, context: OperationContext) =>
  deleteSandboxSnapshot(context.store, input.workspace_id, input.snapshot_name);
