import { z } from "zod";
import { renderFileContent } from "../file-content-render.js";
import { defineOperation } from "../types.js";
import { kv, workspaceIdInput, workspaceIdParam } from "../workspace-params.js";
import { renderWorkspace } from "./workspace.js";

const handlers = () => import("../handlers/workspace-disk.js");

const diskPathParam = z
  .string()
  .min(1)
  .describe("Path on the workspace's disk: absolute, or relative to /workspace.");

export const workspaceStop = defineOperation({
  name: "workspace_stop",
  sdkMethod: "stopWorkspace",
  cli: { example: "pyro workspace stop $WS", words: ["workspace", "stop"], positionals: ["workspace_id"] },
  description:
    "Stop a workspace's sandbox: the guest flushes its filesystem and powers off; shells and services end. Start it again with workspace_start.",
  input: workspaceIdInput,
  profiles: ["workspace-full"],
  loadHandler: async () => (await handlers()).stopWorkspace,
  render: (output) =>
    [
      renderWorkspace(output),
      `[workspace-stop] ${kv({ workspace_id: output.workspace_id, already_stopped: output.already_stopped, ended_shells: output.ended_shells.length, ended_services: output.ended_services.length })}`,
    ].join("\n"),
});

export const workspaceStart = defineOperation({
  name: "workspace_start",
  sdkMethod: "startWorkspace",
  cli: { example: "pyro workspace start $WS", words: ["workspace", "start"], positionals: ["workspace_id"] },
  description: "Boot a stopped workspace's disk again (same id, /workspace and baseline).",
  input: workspaceIdInput,
  profiles: ["workspace-full"],
  loadHandler: async () => (await handlers()).startWorkspace,
  render: (output) =>
    [
      renderWorkspace(output),
      `[workspace-start] ${kv({ workspace_id: output.workspace_id, already_running: output.already_running, previous_stop: output.previous_stop })}`,
    ].join("\n"),
});

export const workspaceDiskListInput = z.object({
  workspace_id: workspaceIdParam,
  path: diskPathParam.default("/workspace"),
  recursive: z.boolean().default(false).describe("List the whole tree below path."),
});

export const workspaceDiskList = defineOperation({
  name: "workspace_disk_list",
  sdkMethod: "listWorkspaceDisk",
  cli: {
    example: "pyro workspace disk list $WS src --recursive",
    words: ["workspace", "disk", "list"],
    positionals: ["workspace_id", "path"],
    scope: "workspace-disk",
  },
  description:
    "List files on a stopped workspace's disk without booting it (symlinks reported, not followed).",
  input: workspaceDiskListInput,
  profiles: ["workspace-full"],
  loadHandler: async () => (await handlers()).listWorkspaceDisk,
  render: (output) =>
    output.entries.map((e) => `${e.type.padEnd(9)} ${String(e.size).padStart(10)}  ${e.path}`).join("\n") ||
    "(empty)",
});

export const workspaceDiskReadInput = z.object({
  workspace_id: workspaceIdParam,
  path: diskPathParam,
  max_bytes: z
    .number()
    .int()
    .min(1)
    .max(16 * 1024 * 1024)
    .default(256 * 1024)
    .describe("Read at most this many bytes."),
});

export const workspaceDiskRead = defineOperation({
  name: "workspace_disk_read",
  sdkMethod: "readWorkspaceDisk",
  cli: {
    example: "pyro workspace disk read $WS src/main.c",
    words: ["workspace", "disk", "read"],
    positionals: ["workspace_id", "path"],
    scope: "workspace-disk",
  },
  description: "Read a file from a stopped workspace's disk without booting it.",
  input: workspaceDiskReadInput,
  profiles: ["workspace-full"],
  loadHandler: async () => (await handlers()).readWorkspaceDisk,
  render: (output) => renderFileContent(output, "workspace-disk"),
});

export const workspaceDiskExportInput = z.object({
  workspace_id: workspaceIdParam,
  output_path: z.string().min(1).describe("Host file to create; its directory must exist."),
  overwrite: z.boolean().default(false).describe("Replace output_path if it exists."),
});

export const workspaceDiskExport = defineOperation({
  name: "workspace_disk_export",
  sdkMethod: "exportWorkspaceDisk",
  cli: {
    example: "pyro workspace disk export $WS --output workspace.ext4",
    words: ["workspace", "disk", "export"],
    positionals: ["workspace_id"],
    flags: { output_path: "--output" },
    scope: "workspace-disk",
  },
  description:
    "Write a stopped workspace's disk to the host as a raw ext4 image (runtime-only state removed). Refuses an existing output unless overwrite.",
  input: workspaceDiskExportInput,
  profiles: ["workspace-full"],
  hostPaths: { output_path: "write" },
  loadHandler: async () => (await handlers()).exportWorkspaceDisk,
  render: (output) =>
    `[workspace-disk-export] ${kv({ workspace_id: output.workspace_id, output_path: output.output_path, bytes: output.bytes, format: output.format })}`,
});

export const WORKSPACE_DISK_OPERATIONS = [
  workspaceStop,
  workspaceStart,
  workspaceDiskList,
  workspaceDiskRead,
  workspaceDiskExport,
] as const;
