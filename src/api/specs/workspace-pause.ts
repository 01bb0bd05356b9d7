import { z } from "zod";
import { defineOperation } from "../types.js";
import { kv, workspaceIdInput, workspaceIdParam } from "../workspace-params.js";
import { renderWorkspace } from "./workspace.js";

const handlers = () => import("../handlers/workspace-pause.js");

export const workspaceForkInput = z.object({
  workspace_id: workspaceIdParam,
  name: z.string().nullable().default(null).describe("A human name for the new workspace."),
});

export const workspacePause = defineOperation({
  name: "workspace_pause",
  sdkMethod: "pauseWorkspace",
  cli: { example: "pyro workspace pause $WS", words: ["workspace", "pause"], positionals: ["workspace_id"] },
  description:
    "Pause a running workspace: its memory, processes, shells and services are saved to disk and its VM ends, freeing host memory. workspace_resume brings it all back; an idle workspace is paused, not deleted, when its TTL runs out.",
  input: workspaceIdInput,
  profiles: ["workspace-full"],
  loadHandler: async () => (await handlers()).pauseWorkspace,
  render: (output) =>
    [
      renderWorkspace(output),
      `[workspace-pause] ${kv({ workspace_id: output.workspace_id, save_ms: output.save_ms, saved_bytes: output.saved_bytes })}`,
    ].join("\n"),
});

export const workspaceResume = defineOperation({
  name: "workspace_resume",
  sdkMethod: "resumeWorkspace",
  cli: {
    example: "pyro workspace resume $WS",
    words: ["workspace", "resume"],
    positionals: ["workspace_id"],
  },
  description:
    "Resume a paused workspace as it was: the same processes, shells (same ids, cursors still valid), services and published ports. A saved state that changed since the pause is refused.",
  input: workspaceIdInput,
  profiles: ["workspace-full"],
  loadHandler: async () => (await handlers()).resumeWorkspace,
  render: (output) =>
    [
      renderWorkspace(output),
      `[workspace-resume] ${kv({ workspace_id: output.workspace_id, verify_ms: output.verify_ms, start_mode: output.start_mode })}`,
    ].join("\n"),
});

export const workspaceFork = defineOperation({
  name: "workspace_fork",
  sdkMethod: "forkWorkspace",
  cli: {
    example: "pyro workspace fork $WS --name try-other-fix",
    words: ["workspace", "fork"],
    positionals: ["workspace_id"],
  },
  description:
    "Create a new workspace from a running or paused one: the same memory, processes, files, baseline and snapshots, with its own id, disks and identity. The two diverge from then on; published ports stay with the source.",
  input: workspaceForkInput,
  profiles: ["workspace-full"],
  loadHandler: async () => (await handlers()).forkWorkspace,
  render: (output) =>
    [
      renderWorkspace(output),
      `[workspace-fork] ${kv({ workspace_id: output.workspace_id, forked_from: output.forked_from, save_ms: output.save_ms })}`,
    ].join("\n"),
});

export const WORKSPACE_PAUSE_OPERATIONS = [workspacePause, workspaceResume, workspaceFork] as const;
