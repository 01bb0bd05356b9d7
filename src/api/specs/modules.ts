import type { AnyOperation } from "../types.js";

/**
 * The modules holding the specs, each loaded on its own: a surface that knows which module an
 * operation is in (the CLI's manifest says it) loads only that one, not the whole table.
 */
export const SPEC_MODULES = {
  vm: async () => (await import("./vm.js")).VM_OPERATIONS,
  environments: async () => (await import("./environments.js")).ENVIRONMENT_OPERATIONS,
  workspace: async () => (await import("./workspace.js")).WORKSPACE_OPERATIONS,
  "workspace-files": async () => (await import("./workspace-files.js")).WORKSPACE_FILE_OPERATIONS,
  snapshots: async () => (await import("./snapshots.js")).SNAPSHOT_OPERATIONS,
  "shells-services": async () => (await import("./shells-services.js")).SHELL_SERVICE_OPERATIONS,
  "workspace-disk": async () => (await import("./workspace-disk.js")).WORKSPACE_DISK_OPERATIONS,
  "workspace-pause": async () => (await import("./workspace-pause.js")).WORKSPACE_PAUSE_OPERATIONS,
  doctor: async () => [(await import("./doctor.js")).doctorOperation],
  // Also listed by environments and workspace; the CLI runs them from here, where no zod loads.
  listings: async () => (await import("./listings.js")).LISTING_OPERATIONS,
} as const satisfies Record<string, () => Promise<readonly AnyOperation[]>>;

export type SpecModule = keyof typeof SPEC_MODULES;

export const isSpecModule = (name: string): name is SpecModule => Object.hasOwn(SPEC_MODULES, name);

/** The operation `name` from its module. */
export async function loadSpec(module: SpecModule, name: string): Promise<AnyOperation | undefined> {
  const operations: readonly AnyOperation[] = await SPEC_MODULES[module]();
  return operations.find((operation) => operation.name === name);
}
