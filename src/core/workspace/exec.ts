import { GUEST_WORKDIR } from "../guest-env.js";
import { execInVm, type ExecOutcome } from "../vm-exec.js";
import { loadVm } from "../vm-manager.js";
import { appendHistory } from "./history.js";
import { touch, updateWorkspace, withWorkspaceLock } from "./lock.js";
import { resolveWorkspacePath } from "./paths.js";
import { readWorkspaceRecord, writeWorkspaceRecord } from "./record.js";
import { runningWorkspace } from "./running.js";
import { StreamMasker, maskText, maskableSecrets, secretEnvironment } from "./secrets.js";

export interface WorkspaceExecOptions {
  command: string | string[];
  timeoutSeconds: number;
  /** Inside /workspace; relative paths are taken from /workspace. */
  cwd?: string;
  /** `NAME` or `NAME=ENV_VAR`: secrets passed to this command as environment variables. */
  secretEnv?: string[];
  onStdout?: (chunk: Buffer) => void | Promise<void>;
  onStderr?: (chunk: Buffer) => void | Promise<void>;
}

export interface WorkspaceExecOutcome extends ExecOutcome {
  workspace_id: string;
  sequence: number;
  cwd: string;
  execution_mode: string;
}

type Sink = (chunk: Buffer) => void | Promise<void>;

/** Masks a live stream only when there is something to mask, so binary output passes untouched. */
function masked(sink: Sink, masker: StreamMasker): Sink {
  return masker.active ? (chunk) => sink(Buffer.from(masker.push(chunk))) : sink;
}

/**
 * Runs a command in a workspace. The sequence number is taken under the workspace lock, the
 * command runs without it (so several can run at once), and its result joins the history.
 */
export async function execWorkspace(
  id: string,
  options: WorkspaceExecOptions,
): Promise<WorkspaceExecOutcome> {
  runningWorkspace(id);
  const relative = options.cwd === undefined ? "." : resolveWorkspacePath(options.cwd);
  const cwd = relative === "." ? GUEST_WORKDIR : `${GUEST_WORKDIR}/${relative}`;
  const env = secretEnvironment(id, options.secretEnv ?? []);
  const secrets = maskableSecrets(id);
  const stdoutMask = new StreamMasker(secrets);
  const stderrMask = new StreamMasker(secrets);
  const started_at = new Date().toISOString();
  const sequence = (
    await updateWorkspace(id, (record) => {
      record.command_count += 1;
      touch(record);
    })
  ).command_count;
  const { onStdout, onStderr } = options;
  const raw = await execInVm(id, {
    command: options.command,
    timeoutSeconds: options.timeoutSeconds,
    cwd,
    env,
    ...(onStdout ? { onStdout: masked(onStdout, stdoutMask) } : {}),
    ...(onStderr ? { onStderr: masked(onStderr, stderrMask) } : {}),
  });
  if (secrets.size > 0 && onStdout) await onStdout(Buffer.from(stdoutMask.flush()));
  if (secrets.size > 0 && onStderr) await onStderr(Buffer.from(stderrMask.flush()));
  // What pyro returns is masked too: agents must not see a secret by accident.
  const outcome = { ...raw, stdout: maskText(raw.stdout, secrets), stderr: maskText(raw.stderr, secrets) };
  await withWorkspaceLock(id, async () => {
    appendHistory(id, {
      sequence,
      command: options.command,
      cwd,
      started_at,
      exit_code: outcome.exit_code,
      timed_out: outcome.timed_out,
      duration_ms: outcome.duration_ms,
    });
    const record = readWorkspaceRecord(id);
    touch(record);
    writeWorkspaceRecord(record);
  });
  return { ...outcome, workspace_id: id, sequence, cwd, execution_mode: loadVm(id).execution_mode };
}
