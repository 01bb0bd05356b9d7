import type { SandboxStore } from "../store.js";
import { GUEST_WORKDIR, userOverride } from "../guest-env.js";
import { execInVm, type ExecOutcome } from "../vm/exec.js";
import { appendHistory } from "./history.js";
import { touch, updateWorkspace, withWorkspaceLock } from "./lock.js";
import { resolveWorkspacePath } from "./paths.js";
import { runningWorkspace } from "./running.js";
import { CompiledSecrets, maskString } from "../../secrets/masker.js";
import { maskableSecrets, secretEnvironment } from "./secrets.js";

export interface WorkspaceExecOptions {
  command: string | string[];
  timeoutSeconds: number;
  /** Inside /workspace; relative paths are taken from /workspace. */
  cwd?: string;
  /** `NAME` or `NAME=ENV_VAR`: secrets passed to this command as environment variables. */
  secretEnv?: string[];
  /** `root`, `UID` or `UID:GID`: this command's user instead of the image's. */
  user?: string;
  onStdout?: (chunk: Buffer) => void | Promise<void>;
  onStderr?: (chunk: Buffer) => void | Promise<void>;
}

export interface WorkspaceExecOutcome extends ExecOutcome {
  workspace_id: string;
  sequence: number;
  cwd: string;
  execution_mode: string;
}

/** The command as kept in the history: caller text, so secret values are masked before it is stored. */
function maskedCommand(command: string | string[], secrets: CompiledSecrets): string | string[] {
  return typeof command === "string"
    ? maskString(command, secrets)
    : command.map((arg) => maskString(arg, secrets));
}

/**
 * Runs a command in a workspace. The sequence number is taken under the workspace lock, the
 * command runs without it (so several can run at once), and its result joins the history.
 */
export async function execWorkspace(
  store: SandboxStore,
  id: string,
  options: WorkspaceExecOptions,
): Promise<WorkspaceExecOutcome> {
  const { record: current } = runningWorkspace(store, id);
  const relative = options.cwd === undefined ? "." : resolveWorkspacePath(options.cwd);
  const cwd = relative === "." ? GUEST_WORKDIR : `${GUEST_WORKDIR}/${relative}`;
  const env = secretEnvironment(store, id, options.secretEnv ?? []);
  const user = options.user === undefined ? undefined : userOverride(options.user);
  const secrets = CompiledSecrets.of(maskableSecrets(store, id));
  const started_at = new Date().toISOString();
  const sequence = (
    await updateWorkspace(store, id, (record) => {
      record.workspace.command_count += 1;
      touch(record);
    })
  ).workspace.command_count;
  const { onStdout, onStderr } = options;
  const outcome = await execInVm(store, current, {
    command: options.command,
    timeoutSeconds: options.timeoutSeconds,
    cwd,
    env,
    ...(user === undefined ? {} : { user }),
    secrets, // output is masked as it streams, before it is captured or shown
    ...(onStdout ? { onStdout } : {}),
    ...(onStderr ? { onStderr } : {}),
  });
  // The record was touched when the sequence was taken; the history is its own file.
  await withWorkspaceLock(store, id, async () =>
    appendHistory(store, id, {
      sequence,
      command: maskedCommand(options.command, secrets),
      cwd: maskString(cwd, secrets),
      started_at,
      exit_code: outcome.exit_code,
      timed_out: outcome.timed_out,
      duration_ms: outcome.duration_ms,
    }),
  );
  return {
    ...outcome,
    workspace_id: id,
    sequence,
    cwd: maskString(cwd, secrets),
    execution_mode: current.execution_mode,
  };
}
