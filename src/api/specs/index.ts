import type { AnyOperation, Profile } from "../types.js";
import { doctorOperation } from "./doctor.js";
import { ENVIRONMENT_OPERATIONS } from "./environments.js";
import { SHELL_SERVICE_OPERATIONS } from "./shells-services.js";
import { SNAPSHOT_OPERATIONS } from "./snapshots.js";
import { VM_OPERATIONS } from "./vm.js";
import { WORKSPACE_DISK_OPERATIONS } from "./workspace-disk.js";
import { WORKSPACE_FILE_OPERATIONS } from "./workspace-files.js";
import { WORKSPACE_OPERATIONS } from "./workspace.js";
import { WORKSPACE_PAUSE_OPERATIONS } from "./workspace-pause.js";

/**
 * Every operation pyro offers, as a typed tuple: the CLI commands, the SDK methods and the MCP
 * tools are generated from it. Loading it loads no handler.
 */
export const OPERATION_TABLE = [
  ...VM_OPERATIONS,
  ...ENVIRONMENT_OPERATIONS,
  ...WORKSPACE_OPERATIONS,
  ...WORKSPACE_FILE_OPERATIONS,
  ...SNAPSHOT_OPERATIONS,
  ...SHELL_SERVICE_OPERATIONS,
  ...WORKSPACE_DISK_OPERATIONS,
  ...WORKSPACE_PAUSE_OPERATIONS,
  doctorOperation,
] as const;

export type OperationTable = typeof OPERATION_TABLE;

export const OPERATIONS: readonly AnyOperation[] = OPERATION_TABLE;

export function operationsForProfile(profile: Profile): AnyOperation[] {
  return OPERATIONS.filter((operation) => operation.profiles.includes(profile));
}

export function findOperation(name: string): AnyOperation | undefined {
  return OPERATIONS.find((operation) => operation.name === name);
}
