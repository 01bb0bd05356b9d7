import { z } from "zod";
import { createSnapshot, deleteSnapshot, listSnapshots } from "../sandbox/workspace/snapshots.js";
import { defineOperation } from "./types.js";
import { kv, snapshotNameParam, workspaceIdParam } from "./workspace-params.js";

export const snapshotCreate = defineOperation({
  name: "snapshot_create",
  sdkMethod: "createSnapshot",
  cli: ["workspace", "snapshot", "create"],
  description: "Save /workspace as a named snapshot (an archive on the host) to reset to later.",
  input: z.object({ workspace_id: workspaceIdParam, snapshot_name: snapshotNameParam }),
  profiles: ["workspace-full"],
  handler: (input, context) => createSnapshot(context.store, input.workspace_id, input.snapshot_name),
  render: (output) =>
    `[workspace-snapshot] ${kv({ workspace_id: output.workspace_id, name: output.name, bytes: output.bytes })}`,
});

export const snapshotList = defineOperation({
  name: "snapshot_list",
  sdkMethod: "listSnapshots",
  cli: ["workspace", "snapshot", "list"],
  description: "List a workspace's named snapshots.",
  input: z.object({ workspace_id: workspaceIdParam }),
  profiles: ["workspace-full"],
  handler: async (input, context) => listSnapshots(context.store, input.workspace_id),
  render: (output) =>
    output.count === 0
      ? "no snapshots (reset can always use the baseline)"
      : output.snapshots.map((s) => `${s.name}  ${s.bytes} bytes  ${s.created_at}`).join("\n"),
});

export const snapshotDelete = defineOperation({
  name: "snapshot_delete",
  sdkMethod: "deleteSnapshot",
  cli: ["workspace", "snapshot", "delete"],
  description: "Delete a named snapshot of a workspace.",
  input: z.object({ workspace_id: workspaceIdParam, snapshot_name: snapshotNameParam }),
  profiles: ["workspace-full"],
  handler: (input, context) => deleteSnapshot(context.store, input.workspace_id, input.snapshot_name),
  render: (output) => `deleted snapshot ${output.name} of workspace ${output.workspace_id}`,
});

export const SNAPSHOT_OPERATIONS = [snapshotCreate, snapshotList, snapshotDelete];
