import { z } from "zod";
import { diskExport, diskList, diskRead } from "../sandbox/workspace/disk.js";
import { startWorkspace, stopWorkspace } from "../sandbox/workspace/lifecycle.js";
import { fileContent, renderFileContent } from "./file-content.js";
import { defineOperation } from "./types.js";
import { renderWorkspace } from "./workspace.js";
import { kv, workspaceIdParam } from "./workspace-params.js";

const diskPathParam = z
  .string()
  .min(1)
  .describe("Path on the workspace's disk: absolute, or relative to /workspace.");

export const workspaceStop = defineOperation({
  name: "workspace_stop",
  sdkMethod: "stopWorkspace",
  cli: ["workspace", "stop"],
  description:
    "Stop a workspace's sandbox: the guest flushes its filesystem and powers off; shells and services end. Start it again with workspace_start.",
  input: z.object({ workspace_id: workspaceIdParam }),
  profiles: ["workspace-full"],
  handler: (input, context) => stopWorkspace(context.store, input.workspace_id),
  render: (output) =>
    [
      renderWorkspace(output),
      `[workspace-stop] ${kv({ workspace_id: output.workspace_id, already_stopped: output.already_stopped, ended_shells: output.ended_shells.length, ended_services: output.ended_services.length })}`,
    ].join("\n"),
});

export const workspaceStart = defineOperation({
  name: "workspace_start",
  sdkMethod: "startWorkspace",
  cli: ["workspace", "start"],
  description: "Boot a stopped workspace's disk again (same id, /workspace and baseline).",
  input: z.object({ workspace_id: workspaceIdParam }),
  profiles: ["workspace-full"],
  handler: (input, context) => startWorkspace(context.store, input.workspace_id),
  render: (output) =>
    [
      renderWorkspace(output),
      `[workspace-start] ${kv({ workspace_id: output.workspace_id, already_running: output.already_running, previous_stop: output.previous_stop })}`,
    ].join("\n"),
});

export const workspaceDiskList = defineOperation({
  name: "workspace_disk_list",
  sdkMethod: "listWorkspaceDisk",
  cli: ["workspace", "disk", "list"],
  description:
    "List files on a stopped workspace's disk without booting it (symlinks reported, not followed).",
  input: z.object({
    workspace_id: workspaceIdParam,
    path: diskPathParam.default("/workspace"),
    recursive: z.boolean().default(false).describe("List the whole tree below path."),
  }),
  profiles: ["workspace-full"],
  handler: (input, context) => diskList(context.store, input.workspace_id, input.path, input.recursive),
  render: (output) =>
    output.entries.map((e) => `${e.type.padEnd(9)} ${String(e.size).padStart(10)}  ${e.path}`).join("\n") ||
    "(empty)",
});

export const workspaceDiskRead = defineOperation({
  name: "workspace_disk_read",
  sdkMethod: "readWorkspaceDisk",
  cli: ["workspace", "disk", "read"],
  description: "Read a file from a stopped workspace's disk without booting it.",
  input: z.object({
    workspace_id: workspaceIdParam,
    path: diskPathParam,
    max_bytes: z
      .number()
      .int()
      .min(1)
      .max(16 * 1024 * 1024)
      .default(256 * 1024)
      .describe("Read at most this many bytes."),
  }),
  profiles: ["workspace-full"],
  handler: async (input, context) =>
    fileContent(
      context.store,
      await diskRead(context.store, input.workspace_id, input.path, input.max_bytes),
    ),
  render: (output) => renderFileContent(output, "workspace-disk"),
});

export const workspaceDiskExport = defineOperation({
  name: "workspace_disk_export",
  sdkMethod: "exportWorkspaceDisk",
  cli: ["workspace", "disk", "export"],
  description:
    "Write a stopped workspace's disk to the host as a raw ext4 image (runtime-only state removed). Refuses an existing output unless overwrite.",
  input: z.object({
    workspace_id: workspaceIdParam,
    output_path: z.string().min(1).describe("Host file to create; its directory must exist."),
    overwrite: z.boolean().default(false).describe("Replace output_path if it exists."),
  }),
  profiles: ["workspace-full"],
  hostPaths: { output_path: "write" },
  handler: (input, context) =>
    diskExport(context.store, input.workspace_id, input.output_path, input.overwrite),
  render: (output) =>
    `[workspace-disk-export] ${kv({ workspace_id: output.workspace_id, output_path: output.output_path, bytes: output.bytes, format: output.format })}`,
});

export const WORKSPACE_DISK_OPERATIONS = [
  workspaceStop,
  workspaceStart,
  workspaceDiskList,
  workspaceDiskRead,
  workspaceDiskExport,
];
