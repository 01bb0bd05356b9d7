import { z } from "zod";
import { defineOperation } from "../types.js";
import { kv, snapshotNameParam, workspaceIdInput, workspaceIdParam } from "../workspace-params.js";

const handlers = () => import("../handlers/snapshots.js");

export const snapshotCreateInput = z.object({
  workspace_id: workspaceIdParam,
  snapshot_name: snapshotNameParam,
});

export const snapshotCreate = defineOperation({
  name: "snapshot_create",
  sdkMethod: "createSnapshot",
  cli: {
    example: "pyro workspace snapshot create $WS before-fix",
    words: ["workspace", "snapshot", "create"],
    positionals: ["workspace_id", "snapshot_name"],
  },
  description:
    "Save /workspace as a named snapshot to reset to later: a copy-on-write snapshot inside the workspace's own disk (bytes 0: it takes no space until later writes), or an archive on the host for host-compat workspaces.",
  input: snapshotCreateInput,
  profiles: ["workspace-full"],
  loadHandler: async () => (await handlers()).createSnapshot,
  render: (output) =>
    `[workspace-snapshot] ${kv({ workspace_id: output.workspace_id, name: output.name, bytes: output.bytes })}`,
});

export const snapshotList = defineOperation({
  name: "snapshot_list",
  sdkMethod: "listSnapshots",
  cli: {
    example: "pyro workspace snapshot list $WS",
    words: ["workspace", "snapshot", "list"],
    positionals: ["workspace_id"],
  },
  description: "List a workspace's named snapshots.",
  input: workspaceIdInput,
  profiles: ["workspace-full"],
  loadHandler: async () => (await handlers()).listSnapshots,
  render: (output) =>
    output.count === 0
      ? "no snapshots (reset can always use the baseline)"
      : output.snapshots.map((s) => `${s.name}  ${s.bytes} bytes  ${s.created_at}`).join("\n"),
});

export const snapshotDeleteInput = z.object({
  workspace_id: workspaceIdParam,
  snapshot_name: snapshotNameParam,
});

export const snapshotDelete = defineOperation({
  name: "snapshot_delete",
  sdkMethod: "deleteSnapshot",
  cli: {
    example: "pyro workspace snapshot delete $WS before-fix",
    words: ["workspace", "snapshot", "delete"],
    positionals: ["workspace_id", "snapshot_name"],
  },
  description: "Delete a named snapshot of a workspace.",
  input: snapshotDeleteInput,
  profiles: ["workspace-full"],
  loadHandler: async () => (await handlers()).deleteSnapshot,
  render: (output) => `deleted snapshot ${output.name} of workspace ${output.workspace_id}`,
});

export const SNAPSHOT_OPERATIONS = [snapshotCreate, snapshotList, snapshotDelete] as const;
