import { constants } from "node:os";
import { EXIT_TIMED_OUT, PyroError } from "../../errors/index.js";
import { GUEST_WORKDIR, guestEnv, guestUser, type GuestImage } from "../guest-env.js";
import { OutputCapture } from "../output-capture.js";
import { CompiledSecrets, SecretMasker, type SecretValues } from "../../secrets/masker.js";
import { connectSupervisor } from "../supervisor-client.js";
import { loadVm } from "./liveness.js";
import type { VmRecord } from "./record.js";
import type { SandboxStore } from "../store.js";

export interface ExecOptions {
  /** A string runs through /bin/sh -c; an array is an argv, looked up in PATH. */
  command: string | string[];
  timeoutSeconds: number;
  cwd?: string;
  env?: Record<string, string>;
  /** Live output; when given, the chunk is also captured (stdout up to captureLimitBytes). */
  onStdout?: (chunk: Buffer) => void | Promise<void>;
  onStderr?: (chunk: Buffer) => void | Promise<void>;
  captureLimitBytes?: number;
  /** Values masked in the output before it is captured or streamed (a workspace's secrets). */
  secrets?: SecretValues | CompiledSecrets;
  /** Bytes for the command's stdin (streamed with backpressure); without it stdin is /dev/null. */
  stdin?: AsyncIterable<Buffer | Uint8Array | string>;
  /** Kills the command (SIGKILL) when aborted, e.g. once nobody reads its output any more. */
  abort?: AbortSignal;
  /** Runs as the agent (root in a guest) instead of the image's user: pyro's own housekeeping. */
  asAgent?: boolean;
  /** The caller's user for this command instead of the image's (guest-env.ts userOverride). */
  user?: NonNullable<GuestImage["user"]>;
}

export interface ExecOutcome {
  exit_code: number;
  signal: string | null;
  timed_out: boolean;
  duration_ms: number;
  stdout: string;
  stderr: string;
  stdout_bytes: number;
  stderr_bytes: number;
  stdout_truncated: boolean;
  stderr_truncated: boolean;
}

export const DEFAULT_CAPTURE_LIMIT = 1024 * 1024;
// If the agent itself stops answering, give up this long after the command's own timeout.
const WATCHDOG_GRACE_MS = 15_000;
const SIGKILL = 9;

const signalName = (signo: number): string | null =>
  signo === 0 ? null : (Object.entries(constants.signals).find(([, n]) => n === signo)?.[0] ?? `SIG${signo}`);

/** Runs one command in a running VM, named by id or by the record its caller already holds. */
export async function execInVm(
  store: SandboxStore,
  target: string | VmRecord,
  options: ExecOptions,
): Promise<ExecOutcome> {
  const vm = typeof target === "string" ? loadVm(store, target) : target;
  if (Array.isArray(options.command) && options.command.length === 0) {
    throw new PyroError("INVALID_ARGUMENT", "no command given", { hint: "Put the command after `--`." });
  }
  if (typeof options.command === "string" && options.command.trim() === "") {
    throw new PyroError("INVALID_ARGUMENT", "the command is empty");
  }
  if (options.user !== undefined && vm.execution_mode === "host_compat") {
    throw new PyroError(
      "INVALID_ARGUMENT",
      "a command's user can be chosen only in a guest, not on the host",
      {
        hint: "Leave out the user, or run where a microVM can boot (`pyro doctor`).",
      },
    );
  }
  // A call's user replaces the image's for this command; its Env and WorkingDir still apply.
  const image: GuestImage | null =
    options.user === undefined
      ? vm.image
      : { env: vm.image?.env ?? [], working_dir: vm.image?.working_dir ?? null, user: options.user };
  const client = await connectSupervisor(store, vm, "pyro-exec");
  const stdout = new OutputCapture(options.captureLimitBytes ?? DEFAULT_CAPTURE_LIMIT);
  const stderr = new OutputCapture(DEFAULT_CAPTURE_LIMIT);
  const timeoutMs = options.timeoutSeconds * 1000;
  const secrets = CompiledSecrets.of(options.secrets ?? []);
  const stdoutMask = new SecretMasker(secrets);
  const stderrMask = new SecretMasker(secrets);
  const toStdout = (chunk: Buffer): void | Promise<void> => {
    stdout.push(chunk);
    return chunk.length > 0 ? options.onStdout?.(chunk) : undefined;
  };
  const toStderr = (chunk: Buffer): void | Promise<void> => {
    stderr.push(chunk);
    return chunk.length > 0 ? options.onStderr?.(chunk) : undefined;
  };
  let detachAbort = (): void => undefined;
  try {
    const pending = client.exec(
      {
        ...(typeof options.command === "string" ? { shell: options.command } : { args: options.command }),
        // The image's Env, WorkingDir and User apply unless the call says otherwise.
        env: guestEnv(image, options.env),
        cwd: options.cwd ?? image?.working_dir ?? GUEST_WORKDIR,
        ...(options.asAgent === true ? {} : guestUser(image)),
        timeoutMs,
        ...(options.stdin ? { stdin: true } : {}),
      },
      {
        // Masked before anything keeps or shows it: a value split across frames is still caught.
        onStdout: (chunk) => toStdout(stdoutMask.push(chunk)),
        onStderr: (chunk) => toStderr(stderrMask.push(chunk)),
      },
    );
    const kill = (): void => client.signal(pending.stream, SIGKILL);
    if (options.abort?.aborted === true) kill();
    options.abort?.addEventListener("abort", kill, { once: true });
    detachAbort = () => options.abort?.removeEventListener("abort", kill);
    let stdinError: unknown = null;
    if (options.stdin) {
      const stream = pending.stream;
      // A failing source must not leave the command waiting for input forever.
      void client.pipeStdin(stream, options.stdin).catch((error: unknown) => {
        stdinError = error;
        client.signal(stream, SIGKILL);
      });
    }
    let watchdog: NodeJS.Timeout | undefined;
    const stuck = new Promise<never>((_, reject) => {
      watchdog = setTimeout(
        () =>
          reject(new PyroError("AGENT_UNREACHABLE", `the agent did not report the command's end in time`)),
        timeoutMs + WATCHDOG_GRACE_MS,
      );
    });
    const status = await Promise.race([pending.result, stuck]).finally(() => clearTimeout(watchdog));
    if (stdinError !== null) throw stdinError;
    await toStdout(stdoutMask.flush());
    await toStderr(stderrMask.flush());
    return {
      exit_code: status.timedOut
        ? EXIT_TIMED_OUT
        : status.exitCode >= 0
          ? status.exitCode
          : 128 + status.signal,
      signal: signalName(status.signal),
      timed_out: status.timedOut,
      duration_ms: status.durationMs,
      stdout: stdout.text(),
      stderr: stderr.text(),
      stdout_bytes: stdout.total,
      stderr_bytes: stderr.total,
      stdout_truncated: stdout.truncated,
      stderr_truncated: stderr.truncated,
    };
  } finally {
    detachAbort(); // an abort after the end must not signal a closed client
    client.close();
  }
}
