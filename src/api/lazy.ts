import type { Operation } from "./types.js";

/**
 * Which module defines an operation, so the CLI loads only that one (and what it needs) instead
 * of every operation's dependencies. The parity test checks this covers the whole table.
 */
function moduleFor(name: string): () => Promise<Record<string, unknown>> {
  if (name === "doctor") return () => import("./doctor.js");
  if (name === "vm_list_environments" || name.startsWith("env_")) return () => import("./environments.js");
  if (name.startsWith("vm_")) return () => import("./vm.js");
  if (name.startsWith("shell_") || name.startsWith("service_")) return () => import("./shells-services.js");
  if (name.startsWith("snapshot_")) return () => import("./snapshots.js");
  if (name.startsWith("workspace_disk_") || name === "workspace_stop" || name === "workspace_start") {
    return () => import("./workspace-disk.js");
  }
  if (/^workspace_(file_|patch_|diff$|export$)/.test(name)) return () => import("./workspace-files.js");
  return () => import("./workspace.js");
}

function isOperation(value: unknown): value is Operation {
  return typeof value === "object" && value !== null && "handler" in value && "sdkMethod" in value;
}

export async function loadOperation(name: string): Promise<Operation | undefined> {
  const exports = await moduleFor(name)();
  return Object.values(exports).find(
    (value): value is Operation => isOperation(value) && value.name === name,
  );
}
