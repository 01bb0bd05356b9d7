import { spawn } from "node:child_process";
import { cp, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { Duplex } from "node:stream";
import { PyroError } from "../../errors/index.js";
import { nativePartFix, nativePartMissing } from "../../platform/install-kind.js";
import type { MachineDisk, MachineDriver } from "../types.js";

const scratch = (dir: string): string => join(dir, "scratch");

/** No block image: the agent works in plain folders of the VM's scratch folder. */
const scratchFolders: MachineDisk = {
  kind: "directory",
  imageFile: () => null,
  async create(dir) {
    await mkdir(join(scratch(dir), "workspace"), { recursive: true, mode: 0o700 });
    await mkdir(join(scratch(dir), "home"), { recursive: true, mode: 0o700 });
  },
  async copy(fromDir, toDir) {
    await cp(scratch(fromDir), scratch(toDir), { recursive: true, verbatimSymlinks: true });
  },
  async flatten() {
    throw new PyroError("NO_DISK", "host-compat mode has no disk image");
  },
};

/**
 * No isolation: the agent runs as a host process in a scratch folder, reached over its stdin and
 * stdout. Only used when the user opts in with --allow-host-compat.
 */
export const hostDriver: MachineDriver = {
  name: "host",
  executionMode: "host_compat",
  disk: scratchFolders,
  network: { kind: "none" },
  capabilities: { memorySnapshot: false, pause: false, diskSnapshot: false },
  workspaceImage: null,

  async probe(context) {
    const available = context.agentBinary !== null;
    return {
      name: "host",
      available,
      isolated: false,
      accel: "none",
      evidence: available
        ? "the agent runs as a host process, without isolation"
        : nativePartMissing("agent"),
      fix: available ? null : nativePartFix("agent"),
      kvm: null,
    };
  },

  async report() {
    return { checks: [], tools: {}, complete: true };
  },

  async launch(spec) {
    // HOME inside the scratch folder: commands never run the host user's shell rc files.
    const args = [
      "--host",
      "--workdir",
      join(scratch(spec.dir), "workspace"),
      "--home",
      join(scratch(spec.dir), "home"),
    ];
    const child = spawn(spec.agentBinary, args, {
      stdio: ["pipe", "pipe", "inherit"],
      cwd: scratch(spec.dir),
    });
    const channel = Duplex.from({ readable: child.stdout, writable: child.stdin });
    return {
      process: child,
      helpers: [],
      diagnostics: () => "",
      control: null,
      async connectAgent() {
        if (child.exitCode !== null) {
          throw new PyroError("VM_BOOT_FAILED", `the host-compat agent exited with ${child.exitCode}`);
        }
        return channel;
      },
    };
  },
};
