import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { Duplex } from "node:stream";
import { fileURLToPath } from "node:url";
import { AgentClient } from "../../src/agent-protocol/client.js";
import { FileOps } from "../../src/agent-protocol/file-ops.js";
import { GUEST_WORKDIR, defaultGuestEnv } from "../../src/sandbox/guest-env.js";
import { OutputCapture } from "../../src/sandbox/output-capture.js";
import { DEFAULT_CAPTURE_LIMIT } from "../../src/sandbox/vm-exec.js";
import type { GuestRunner } from "../../src/sandbox/workspace/guest-runner.js";

const AGENT = fileURLToPath(new URL("../../guest/build/pyro-agent", import.meta.url));

export interface HostAgent {
  /** The host folder the agent maps /workspace to. */
  workdir: string;
  run: GuestRunner;
  /** The agent's native file operations over the same connection. */
  files: FileOps;
  stop(): Promise<void>;
}

/** The real agent in host mode over stdio, as a GuestRunner (a small mirror of execInVm). */
export async function startHostAgent(workdir: string): Promise<HostAgent> {
  mkdirSync(workdir, { recursive: true });
  const child = spawn(AGENT, ["--host", "--workdir", workdir], { stdio: ["pipe", "pipe", "inherit"] });
  const client = await AgentClient.connect(Duplex.from({ readable: child.stdout, writable: child.stdin }), {
    client: "test",
  });
  const run: GuestRunner = async (argv, options = {}) => {
    const stdout = new OutputCapture(options.captureLimitBytes ?? DEFAULT_CAPTURE_LIMIT);
    const stderr = new OutputCapture(DEFAULT_CAPTURE_LIMIT);
    const pending = client.exec(
      {
        args: argv,
        env: defaultGuestEnv(),
        cwd: options.cwd ?? GUEST_WORKDIR,
        timeoutMs: (options.timeoutSeconds ?? 60) * 1000,
        ...(options.stdin ? { stdin: true } : {}),
      },
      {
        onStdout: (chunk) => {
          stdout.push(chunk);
          return options.onStdout?.(chunk);
        },
        onStderr: (chunk) => stderr.push(chunk),
      },
    );
    const piping = options.stdin ? client.pipeStdin(pending.stream, options.stdin) : Promise.resolve();
    const [status] = await Promise.all([pending.result, piping]);
    return {
      exit_code: status.exitCode >= 0 ? status.exitCode : 128 + status.signal,
      signal: null,
      timed_out: status.timedOut,
      duration_ms: status.durationMs,
      stdout: stdout.text(),
      stderr: stderr.text(),
      stdout_bytes: stdout.total,
      stderr_bytes: stderr.total,
      stdout_truncated: stdout.truncated,
      stderr_truncated: stderr.truncated,
    };
  };
  const stop = async (): Promise<void> => {
    client.close();
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await exited;
    }
  };
  return { workdir, run, files: new FileOps(client), stop };
}
