import { execInVm, type ExecOutcome } from "../vm/exec.js";
import type { SandboxStore } from "../store.js";
import { GUEST_WORKDIR } from "../guest-env.js";

export interface GuestRunOptions {
  /** Streamed to the command's stdin with backpressure; stdin is /dev/null without it. */
  stdin?: AsyncIterable<Buffer | Uint8Array | string>;
  /** Live stdout (for binary streams such as tar); a returned promise pauses the guest. */
  onStdout?: (chunk: Buffer) => void | Promise<void>;
  /** How much stdout to keep in the result (default 1 MiB; 0 for pure streams). */
  captureLimitBytes?: number;
  timeoutSeconds?: number;
  /** Defaults to /workspace. */
  cwd?: string;
  /** Kills the command when aborted. */
  abort?: AbortSignal;
  /** Runs as the agent (root) rather than the image's user. */
  asAgent?: boolean;
}

/**
 * Runs one argv in a workspace's guest (readiness probes, secrets placement), with /workspace as
 * the working directory so it behaves the same in the host-compat backend. File operations do not
 * use it: they are the agent's own messages (guest-fs.ts).
 */
export type GuestRunner = (argv: string[], options?: GuestRunOptions) => Promise<ExecOutcome>;

const INTERNAL_TIMEOUT_SECONDS = 600;

export function vmRunner(store: SandboxStore, vmId: string): GuestRunner {
  return (argv, options = {}) =>
    execInVm(store, vmId, {
      command: argv,
      timeoutSeconds: options.timeoutSeconds ?? INTERNAL_TIMEOUT_SECONDS,
      cwd: options.cwd ?? GUEST_WORKDIR,
      ...(options.stdin ? { stdin: options.stdin } : {}),
      ...(options.onStdout ? { onStdout: options.onStdout } : {}),
      ...(options.abort ? { abort: options.abort } : {}),
      ...(options.asAgent ? { asAgent: true } : {}),
      ...(options.captureLimitBytes !== undefined ? { captureLimitBytes: options.captureLimitBytes } : {}),
    });
}
