import { z } from "zod";
import { diffWorkspace } from "../sandbox/workspace/diff.js";
import { exportWorkspace } from "../sandbox/workspace/export.js";
import {
  applyWorkspacePatch,
  listWorkspaceFiles,
  readWorkspaceFile,
  writeWorkspaceFile,
} from "../sandbox/workspace/files.js";
import { fileContent, renderFileContent } from "./file-content.js";
import { renderGitMetadata } from "./git-metadata-render.js";
import { printableLine } from "./terminal-text.js";
import { defineOperation } from "./types.js";
import { kv, workspaceIdParam, workspacePathParam } from "./workspace-params.js";

const MAX_READ_BYTES = 16 * 1024 * 1024;

export const workspaceFileList = defineOperation({
  name: "workspace_file_list",
  sdkMethod: "listWorkspaceFiles",
  cli: ["workspace", "file", "list"],
  description:
    "List files under a path of /workspace (type, size, mode, mtime); symlinks are reported, not followed.",
  input: z.object({
    workspace_id: workspaceIdParam,
    path: workspacePathParam.default("/workspace"),
    recursive: z.boolean().default(false).describe("List the whole tree below path."),
  }),
  profiles: ["workspace-core", "workspace-full"],
  handler: (input, context) =>
    listWorkspaceFiles(context.store, input.workspace_id, input.path, input.recursive),
  render: (output) =>
    [
      ...output.entries.map(
        (e) =>
          `${e.type.padEnd(9)} ${String(e.size).padStart(10)}  ${printableLine(e.path)}${e.link_target ? ` -> ${printableLine(e.link_target)}` : ""}`,
      ),
      ...(output.truncated ? ["(truncated: more entries not shown)"] : []),
    ].join("\n") || "(empty)",
});

export const workspaceFileRead = defineOperation({
  name: "workspace_file_read",
  sdkMethod: "readWorkspaceFile",
  cli: ["workspace", "file", "read"],
  description: "Read a file of /workspace, up to max_bytes; says whether it was truncated.",
  input: z.object({
    workspace_id: workspaceIdParam,
    path: workspacePathParam,
    max_bytes: z
      .number()
      .int()
      .min(1)
      .max(MAX_READ_BYTES)
      .default(256 * 1024)
      .describe(`Read at most this many bytes (default 262144, at most ${MAX_READ_BYTES}).`),
  }),
  profiles: ["workspace-core", "workspace-full"],
  handler: async (input, context) =>
    fileContent(
      context.store,
      await readWorkspaceFile(context.store, input.workspace_id, input.path, input.max_bytes),
    ),
  render: (output) => renderFileContent(output, "workspace-file"),
});

export const workspaceFileWrite = defineOperation({
  name: "workspace_file_write",
  sdkMethod: "writeWorkspaceFile",
  cli: ["workspace", "file", "write"],
  description: "Write a text file in /workspace (parents are created; replaced atomically).",
  input: z.object({
    workspace_id: workspaceIdParam,
    path: workspacePathParam,
    text: z.string().optional().describe("The file's new content."),
    text_file: z.string().optional().describe("Host file whose content is written (instead of text)."),
  }),
  profiles: ["workspace-core", "workspace-full"],
  hostPaths: { text_file: "read" },
  handler: (input, context) =>
    writeWorkspaceFile(context.store, input.workspace_id, input.path, {
      ...(input.text !== undefined ? { text: input.text } : {}),
      ...(input.text_file !== undefined ? { textFile: input.text_file } : {}),
    }),
  render: (output) =>
    `[workspace-file] ${kv({ workspace_id: output.workspace_id, path: output.path, bytes_written: output.bytes_written })}`,
});

export const workspacePatchApply = defineOperation({
  name: "workspace_patch_apply",
  sdkMethod: "applyWorkspacePatch",
  cli: ["workspace", "patch", "apply"],
  description:
    "Apply a unified diff (add, modify, delete files) to /workspace, all or nothing: if any hunk fails, nothing changes and the error names the file and hunk.",
  input: z.object({
    workspace_id: workspaceIdParam,
    patch: z
      .string()
      .min(1)
      .describe("The unified diff text: git diff (a/ b/), diff -ruN dirA dirB, or bare relative paths."),
    strip: z
      .number()
      .int()
      .min(0)
      .max(32)
      .optional()
      .describe(
        "Remove this many leading path components from the patch's file names, like patch -pN. Default: found automatically when every path agrees (reported as strip).",
      ),
  }),
  profiles: ["workspace-core", "workspace-full"],
  handler: (input, context) =>
    applyWorkspacePatch(context.store, input.workspace_id, input.patch, input.strip),
  render: (output) =>
    `[workspace-patch] ${kv({ workspace_id: output.workspace_id, total: output.total, added: output.added, modified: output.modified, deleted: output.deleted, strip: output.strip, strip_detected: output.strip_detected })}`,
});

export const workspaceDiff = defineOperation({
  name: "workspace_diff",
  sdkMethod: "diffWorkspace",
  cli: ["workspace", "diff"],
  description:
    "Compare /workspace with its create-time baseline: summary counts and a unified diff of text files.",
  input: z.object({ workspace_id: workspaceIdParam }),
  profiles: ["workspace-core", "workspace-full"],
  handler: (input, context) => diffWorkspace(context.store, input.workspace_id),
  render: (output) =>
    [
      `[workspace-diff] ${kv({ workspace_id: output.workspace_id, ...output.summary })}`,
      output.patch.trimEnd(),
      ...(output.patch_truncated ? ["(patch truncated)"] : []),
    ]
      .filter((part) => part !== "")
      .join("\n"),
});

export const workspaceExport = defineOperation({
  name: "workspace_export",
  sdkMethod: "exportWorkspace",
  cli: ["workspace", "export"],
  description:
    "Copy a file or directory from /workspace to a host path. Never writes outside output_path; refuses to replace an existing path unless overwrite is true.",
  input: z.object({
    workspace_id: workspaceIdParam,
    path: workspacePathParam,
    output_path: z.string().min(1).describe("Host path to create (its parent directory must exist)."),
    overwrite: z.boolean().default(false).describe("Replace output_path if it already exists."),
    trust_git_metadata: z
      .boolean()
      .default(false)
      .describe(
        "Keep .git hooks and config keys that run programs (core.fsmonitor, filters, aliases, …) as the guest wrote them; by default they are removed.",
      ),
  }),
  profiles: ["workspace-core", "workspace-full"],
  hostPaths: { output_path: "write" },
  handler: (input, context) =>
    exportWorkspace(
      context.store,
      input.workspace_id,
      input.path,
      input.output_path,
      input.overwrite,
      input.trust_git_metadata,
    ),
  render: (output) =>
    [
      `[workspace-export] ${kv({ workspace_id: output.workspace_id, path: output.path, output_path: output.output_path, artifact_type: output.artifact_type, entry_count: output.entry_count, bytes_written: output.bytes_written, execution_mode: output.execution_mode })}`,
      ...output.skipped.map(
        (entry) => `skipped ${printableLine(entry.path)}: ${printableLine(entry.reason)}`,
      ),
      ...renderGitMetadata(output.git_metadata),
    ].join("\n"),
});

export const WORKSPACE_FILE_OPERATIONS = [
  workspaceFileList,
  workspaceFileRead,
  workspaceFileWrite,
  workspacePatchApply,
  workspaceDiff,
  workspaceExport,
];
