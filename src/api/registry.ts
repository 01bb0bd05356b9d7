import { doctor } from "./doctor.js";
import { ENVIRONMENT_OPERATIONS } from "./environments.js";
import type { Operation, Profile } from "./types.js";
import { SHELL_SERVICE_OPERATIONS } from "./shells-services.js";
import { SNAPSHOT_OPERATIONS } from "./snapshots.js";
import { VM_OPERATIONS } from "./vm.js";
import { WORKSPACE_DISK_OPERATIONS } from "./workspace-disk.js";
import { WORKSPACE_FILE_OPERATIONS } from "./workspace-files.js";
import { WORKSPACE_OPERATIONS } from "./workspace.js";

/** Every operation pyro offers; the CLI, SDK and MCP server are generated or checked from this. */
export const OPERATIONS: readonly Operation[] = [
  ...VM_OPERATIONS,
  ...ENVIRONMENT_OPERATIONS,
  ...WORKSPACE_OPERATIONS,
  ...WORKSPACE_FILE_OPERATIONS,
  ...SNAPSHOT_OPERATIONS,
  ...SHELL_SERVICE_OPERATIONS,
  ...WORKSPACE_DISK_OPERATIONS,
  doctor,
] as unknown as Operation[];

export function operationsForProfile(profile: Profile): Operation[] {
  return OPERATIONS.filter((operation) => operation.profiles.includes(profile));
}
