import { spawn } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { Duplex } from "node:stream";
import { PyroError } from "../../errors/index.js";
import type { Backend, LaunchSpec, LaunchedVmm } from "../types.js";

/**
 * No isolation: the agent runs as a host process in a scratch folder, reached over its stdin and
 * stdout. Only used when the user opts in with --allow-host-compat.
 */
export const hostBackend: Backend = {
  name: "host",
  executionMode: "host_compat",

  async prepare(spec: LaunchSpec): Promise<void> {
    await mkdir(join(spec.files.scratch, "workspace"), { recursive: true, mode: 0o700 });
    await mkdir(join(spec.files.scratch, "home"), { recursive: true, mode: 0o700 });
  },

  async launch(spec: LaunchSpec): Promise<LaunchedVmm> {
    // HOME inside the scratch folder: commands never run the host user's shell rc files.
    const args = [
      "--host",
      "--workdir",
      join(spec.files.scratch, "workspace"),
      "--home",
      join(spec.files.scratch, "home"),
    ];
    const child = spawn(spec.agentBinary, args, {
      stdio: ["pipe", "pipe", "inherit"],
      cwd: spec.files.scratch,
    });
    const channel = Duplex.from({ readable: child.stdout, writable: child.stdin });
    return {
      process: child,
      helpers: [],
      diagnostics: () => "",
      async connectAgent() {
        if (child.exitCode !== null) {
          throw new PyroError("VM_BOOT_FAILED", `the host-compat agent exited with ${child.exitCode}`);
        }
        return channel;
      },
    };
  },
};
