import { basename } from "node:path";
import type { Writable } from "node:stream";
import { runTool } from "./run-tool.js";

/**
 * Drivers the guest needs that Debian's cloud kernel builds as modules (EXT4 is built in). The
 * agent loads them in modules.order from the initramfs before mounting the root disk.
 */
const REQUIRED_MODULES = ["virtio_mmio", "virtio_blk", "virtio_console"];
const OPTIONAL_MODULES = ["virtio_net", "virtio_balloon", "vmw_vsock_virtio_transport", "overlay"];

export interface ModuleTools {
  depmod: string;
  modprobe: string;
}

/**
 * Absolute paths of the .ko files to load, dependencies first, each once. The .deb ships no
 * modules.dep, so depmod writes one into the unpacked tree and modprobe --show-depends reads it.
 */
export async function resolveModuleLoadOrder(
  tools: ModuleTools,
  packageRoot: string,
  release: string,
  log: Writable,
): Promise<string[]> {
  await runTool(tools.depmod, ["-b", packageRoot, release], { log });
  const ordered: string[] = [];
  for (const module of [...REQUIRED_MODULES, ...OPTIONAL_MODULES]) {
    const result = await runTool(
      tools.modprobe,
      ["-d", packageRoot, "-S", release, "--show-depends", module],
      {
        log,
        captureStdout: true,
        ignoreExitCode: true,
      },
    );
    if (result.exitCode !== 0) {
      if (REQUIRED_MODULES.includes(module)) throw new Error(`kernel ${release} has no module ${module}`);
      log.write(`pyro: optional module ${module} not available; skipped\n`);
      continue;
    }
    for (const path of insmodPaths(result.stdout)) {
      if (!ordered.includes(path)) ordered.push(path);
    }
  }
  assertUniqueBasenames(ordered);
  return ordered;
}

/** "insmod /path/x.ko [options]" lines; "builtin x" lines need nothing. */
export function insmodPaths(showDependsOutput: string): string[] {
  return showDependsOutput
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter((words) => words[0] === "insmod" && words[1] !== undefined)
    .map((words) => words[1] as string);
}

/** Modules are stored flat in the initramfs, so two with one file name would overwrite each other. */
function assertUniqueBasenames(paths: string[]): void {
  const seen = new Set<string>();
  for (const path of paths) {
    const name = basename(path);
    if (seen.has(name)) throw new Error(`two modules named ${name} in the load order`);
    seen.add(name);
  }
}
