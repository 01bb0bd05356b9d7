import { z } from "zod";
import { renderFileContent } from "../file-content-render.js";
import { renderGitMetadata } from "../git-metadata-render.js";
import { printableLine } from "../terminal-text.js";
import { defineOperation } from "../types.js";
import { kv, workspaceIdInput, workspaceIdParam, workspacePathParam } from "../workspace-params.js";

const handlers = () => import("../handlers/workspace-files.js");

const MAX_READ_BYTES = 16 * 1024 * 1024;

export const workspaceFileListInput = z.object({
  workspace_id: workspaceIdParam,
  path: workspacePathParam.default("/workspace"),
  recursive: z.boolean().default(false).describe("List the whole tree below path."),
});

export const workspaceFileList = defineOperation({
  name: "workspace_file_list",
  sdkMethod: "listWorkspaceFiles",
  cli: {
    example: "pyro workspace file list $WS src --recursive",
    words: ["workspace", "file", "list"],
    positionals: ["workspace_id", "path"],
    scope: "workspace-file",
  },
  description:
    "List files under a path of /workspace (type, size, mode, mtime); symlinks are reported, not followed.",
  input: workspaceFileListInput,
  profiles: ["workspace-core", "workspace-full"],
  loadHandler: async () => (await handlers()).listWorkspaceFiles,
  render: (output) =>
    [
      ...output.entries.map(
        (e) =>
          `${e.type.padEnd(9)} ${String(e.size).padStart(10)}  ${printableLine(e.path)}${e.link_target ? ` -> ${printableLine(e.link_target)}` : ""}`,
      ),
      ...(output.truncated ? ["(truncated: more entries not shown)"] : []),
    ].join("\n") || "(empty)",
});

export const workspaceFileReadInput = z.object({
  workspace_id: workspaceIdParam,
  path: workspacePathParam,
  max_bytes: z
    .number()
    .int()
    .min(1)
    .max(MAX_READ_BYTES)
    .default(256 * 1024)
    .describe(`Read at most this many bytes (default 262144, at most ${MAX_READ_BYTES}).`),
});

export const workspaceFileRead = defineOperation({
  name: "workspace_file_read",
  sdkMethod: "readWorkspaceFile",
  cli: {
    example: "pyro workspace file read $WS README.md --content-only",
    words: ["workspace", "file", "read"],
    positionals: ["workspace_id", "path"],
    scope: "workspace-file",
  },
  description: "Read a file of /workspace, up to max_bytes; says whether it was truncated.",
  input: workspaceFileReadInput,
  profiles: ["workspace-core", "workspace-full"],
  loadHandler: async () => (await handlers()).readWorkspaceFile,
  render: (output) => renderFileContent(output, "workspace-file"),
});

export const workspaceFileWriteInput = z.object({
  workspace_id: workspaceIdParam,
  path: workspacePathParam,
  text: z.string().optional().describe("The file's new content."),
  text_file: z.string().optional().describe("Host file whose content is written (instead of text)."),
});

export const workspaceFileWrite = defineOperation({
  name: "workspace_file_write",
  sdkMethod: "writeWorkspaceFile",
  cli: {
    example: "pyro workspace file write $WS notes.txt --text 'hello from the host'",
    words: ["workspace", "file", "write"],
    positionals: ["workspace_id", "path"],
    scope: "workspace-file",
  },
  description: "Write a text file in /workspace (parents are created; replaced atomically).",
  input: workspaceFileWriteInput,
  profiles: ["workspace-core", "workspace-full"],
  hostPaths: { text_file: "read" },
  loadHandler: async () => (await handlers()).writeWorkspaceFile,
  render: (output) =>
    `[workspace-file] ${kv({ workspace_id: output.workspace_id, path: output.path, bytes_written: output.bytes_written })}`,
});

export const workspacePatchApplyInput = z.object({
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
});

export const workspacePatchApply = defineOperation({
  name: "workspace_patch_apply",
  sdkMethod: "applyWorkspacePatch",
  cli: {
    example: "git diff > fix.patch && pyro workspace patch apply $WS --patch-file fix.patch",
    words: ["workspace", "patch", "apply"],
    positionals: ["workspace_id"],
    custom: ["patch"],
    scope: "workspace-patch",
  },
  description:
    "Apply a unified diff (add, modify, delete files) to /workspace, all or nothing: if any hunk fails, nothing changes and the error names the file and hunk.",
  input: workspacePatchApplyInput,
  profiles: ["workspace-core", "workspace-full"],
  loadHandler: async () => (await handlers()).applyWorkspacePatch,
  render: (output) =>
    `[workspace-patch] ${kv({ workspace_id: output.workspace_id, total: output.total, added: output.added, modified: output.modified, deleted: output.deleted, strip: output.strip, strip_detected: output.strip_detected })}`,
});

export const workspaceDiff = defineOperation({
  name: "workspace_diff",
  sdkMethod: "diffWorkspace",
  cli: { example: "pyro workspace diff $WS", words: ["workspace", "diff"], positionals: ["workspace_id"] },
  description:
    "Compare /workspace with its create-time baseline: summary counts and a unified diff of text files.",
  input: workspaceIdInput,
  profiles: ["workspace-core", "workspace-full"],
  loadHandler: async () => (await handlers()).diffWorkspace,
  render: (output) =>
    [
      `[workspace-diff] ${kv({ workspace_id: output.workspace_id, ...output.summary })}`,
      output.patch.trimEnd(),
      ...(output.patch_truncated ? ["(patch truncated)"] : []),
    ]
      .filter((part) => part !== "")
      .join("\n"),
});

export const workspaceExportInput = z.object({
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
});

export const workspaceExport = defineOperation({
  name: "workspace_export",
  sdkMethod: "exportWorkspace",
  cli: {
    example: "pyro workspace export $WS src --output ./src-from-guest",
    words: ["workspace", "export"],
    positionals: ["workspace_id", "path"],
    flags: { output_path: "--output" },
  },
  description:
    "Copy a file or directory from /workspace to a host path. Never writes outside output_path; refuses to replace an existing path unless overwrite is true.",
  input: workspaceExportInput,
  profiles: ["workspace-core", "workspace-full"],
  hostPaths: { output_path: "write" },
  loadHandler: async () => (await handlers()).exportWorkspace,
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
] as const;
