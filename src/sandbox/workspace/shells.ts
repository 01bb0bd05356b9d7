import type { SandboxStore } from "../store.js";
import { renderPlain } from "../../terminal/plain-text.js";
import type { ManagedInfo } from "../../runtime/managed.js";
import { supervisorControl } from "../supervisor-client.js";
import { throwIfRefused } from "./start-refusal.js";
import { PyroError } from "../../errors/index.js";
import { GUEST_WORKDIR, guestEnv, guestUser } from "../guest-env.js";
import { touch, updateWorkspace } from "./lock.js";
import { resolveWorkspacePath } from "./paths.js";
import { runningWorkspace } from "./running.js";
import { secretEnvironment, secretsDir } from "./secrets.js";
import { signalNumber } from "./signals.js";

export const MAX_SHELL_INPUT = 1024 * 1024;

export interface ShellInfo {
  workspace_id: string;
  shell_id: string;
  state: ManagedInfo["state"];
  cwd: string;
  cols: number;
  rows: number;
  pid: number | null;
  exit_code: number | null;
  output_end: number;
  started_at: string;
}

function shellInfo(id: string, info: ManagedInfo): ShellInfo {
  return {
    workspace_id: id,
    shell_id: info.id,
    state: info.state,
    cwd: info.cwd,
    cols: info.pty?.cols ?? 0,
    rows: info.pty?.rows ?? 0,
    pid: info.pid,
    exit_code: info.exit_code,
    output_end: info.output_end,
    started_at: info.started_at,
  };
}

export interface OpenShellOptions {
  cwd?: string;
  cols: number;
  rows: number;
  secretEnv?: string[];
}

/**
 * The interactive shell, chosen by the guest as it starts: bash when the environment has it, else
 * its POSIX sh (a busybox-only image). `exec` keeps one process: the pid is the shell's.
 */
const INTERACTIVE_SHELL = "if [ -x /bin/bash ]; then exec /bin/bash -i; fi; exec /bin/sh -i";

/** Opens an interactive shell on a new terminal; it lives in the VM's supervisor, not in this process. */
export async function openShell(
  store: SandboxStore,
  id: string,
  options: OpenShellOptions,
): Promise<ShellInfo> {
  const { record } = runningWorkspace(store, id);
  const relative = options.cwd === undefined ? "." : resolveWorkspacePath(options.cwd);
  const cwd = relative === "." ? GUEST_WORKDIR : `${GUEST_WORKDIR}/${relative}`;
  const env = guestEnv(record.image, {
    TERM: "xterm-256color",
    ...secretEnvironment(store, id, options.secretEnv ?? []),
  });
  const info = await supervisorControl(store, id).start({
    kind: "shell",
    name: "shell",
    request: {
      shell: INTERACTIVE_SHELL,
      env,
      cwd,
      pty: { cols: options.cols, rows: options.rows },
      ...guestUser(record.image),
    },
    mask_dir: secretsDir(store, id),
  });
  await throwIfRefused(store, id, info);
  await updateWorkspace(store, id, touch);
  return shellInfo(id, info);
}

export async function writeShell(
  store: SandboxStore,
  id: string,
  shellId: string,
  input: string,
  appendNewline = true,
) {
  runningWorkspace(store, id);
  const data = Buffer.from(appendNewline ? `${input}\n` : input);
  if (data.length > MAX_SHELL_INPUT) {
    throw new PyroError(
      "INVALID_ARGUMENT",
      `shell input of ${data.length} bytes is over ${MAX_SHELL_INPUT}`,
      {
        hint: "Write large content with `pyro workspace file write` or `sync push`, then use it from the shell.",
      },
    );
  }
  for (let offset = 0; offset < data.length; offset += 60_000) {
    await supervisorControl(store, id).write(
      { kind: "shell", id: shellId },
      data.subarray(offset, offset + 60_000),
    );
  }
  await updateWorkspace(store, id, touch);
  return { workspace_id: id, shell_id: shellId, bytes_written: data.length };
}

export interface ReadShellOptions {
  cursor: number;
  maxChars: number;
  plain: boolean;
  waitForIdleMs?: number | undefined;
}

const MAX_IDLE_WAIT_MS = 30_000;

/**
 * Output from a cursor (raw byte offsets; `next_cursor` continues where this read stopped).
 * A cursor whose bytes were dropped from the bounded buffer is reported with `dropped`.
 */
export async function readShell(store: SandboxStore, id: string, shellId: string, options: ReadShellOptions) {
  runningWorkspace(store, id);
  const chunks: Buffer[] = [];
  let cursor = options.cursor;
  let from: number | null = null;
  let dropped = 0;
  let info: ManagedInfo | null = null;
  let wait = options.waitForIdleMs;
  for (;;) {
    const budget = options.maxChars - chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    if (budget <= 0) break;
    const read = await supervisorControl(store, id).read({
      kind: "shell",
      id: shellId,
      cursor,
      max_bytes: budget,
      ...(wait ? { wait_for_idle_ms: wait, max_wait_ms: Math.max(MAX_IDLE_WAIT_MS, wait) } : {}),
    });
    wait = undefined; // only the first read waits
    from ??= read.from;
    dropped ||= read.dropped;
    info = read.info;
    chunks.push(read.data);
    cursor = read.next;
    if (read.data.length === 0 || cursor >= read.end) break;
  }
  const raw = Buffer.concat(chunks);
  const size = info?.pty ?? { cols: 120, rows: 30 };
  const text = options.plain ? await renderPlain(raw, size) : raw.toString("utf8");
  return {
    workspace_id: id,
    shell_id: shellId,
    cursor: from ?? options.cursor,
    next_cursor: cursor,
    dropped_bytes: dropped,
    output: text, // masked by the supervisor as it was kept
    plain: options.plain,
    state: info?.state ?? "exited",
    exit_code: info?.exit_code ?? null,
  };
}

/** Keys a person presses for these signals: the terminal delivers them to the foreground job. */
const TERMINAL_KEYS: Record<string, string> = { INT: "\x03", QUIT: "\x1c" };

export async function signalShell(store: SandboxStore, id: string, shellId: string, signal: string) {
  runningWorkspace(store, id);
  const signo = signalNumber(signal);
  const key = TERMINAL_KEYS[signal.toUpperCase().replace(/^SIG/, "")];
  // INT and QUIT go through the terminal like ^C and ^\ so they reach the running job, not only bash.
  const shell = { kind: "shell", id: shellId } as const;
  if (key !== undefined) await supervisorControl(store, id).write(shell, Buffer.from(key));
  else await supervisorControl(store, id).signal({ ...shell, signo });
  return { workspace_id: id, shell_id: shellId, signal: signal.toUpperCase().replace(/^SIG/, "") };
}

/** Hangs up the shell (as closing a terminal would), then removes it. */
export async function closeShell(store: SandboxStore, id: string, shellId: string) {
  runningWorkspace(store, id);
  const control = supervisorControl(store, id);
  const shell = { kind: "shell", id: shellId } as const;
  await control.signal({ ...shell, signo: signalNumber("HUP") });
  await control.wait({ ...shell, timeout_ms: 1_000 });
  await control.remove(shell);
  return { workspace_id: id, shell_id: shellId, closed: true };
}

export async function listShells(store: SandboxStore, id: string): Promise<ShellInfo[]> {
  const processes = await supervisorControl(store, id).list();
  return processes.filter((p) => p.kind === "shell").map((p) => shellInfo(id, p));
}
