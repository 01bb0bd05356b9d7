import type { z } from "zod";
import { invokeOperation } from "../../api/invoke.js";
import { doctor } from "../../api/doctor.js";
import { envBuild, envInspect, envList, envPrune, envPull } from "../../api/environments.js";
import type { Operation, OperationContext } from "../../api/types.js";
import {
  vmCreate,
  vmDelete,
  vmExec,
  vmList,
  vmNetworkInfo,
  vmReapExpired,
  vmRun,
  vmStart,
  vmStatus,
  vmStop,
} from "../../api/vm.js";
import { snapshotCreate, snapshotDelete, snapshotList } from "../../api/snapshots.js";
import {
  workspaceCreate,
  workspaceDelete,
  workspaceExec,
  workspaceList,
  workspaceLogsOp,
  workspaceReset,
  workspaceStatus,
  workspaceSyncPush,
  workspaceUpdate,
} from "../../api/workspace.js";
import {
  workspaceDiff,
  workspaceExport,
  workspaceFileList,
  workspaceFileRead,
  workspaceFileWrite,
  workspacePatchApply,
} from "../../api/workspace-files.js";
import {
  serviceList,
  serviceLogsOp,
  serviceStart,
  serviceStatus,
  serviceStop,
  shellClose,
  shellOpen,
  shellRead,
  shellSignal,
  shellWrite,
} from "../../api/shells-services.js";
import {
  workspaceDiskExport,
  workspaceDiskList,
  workspaceDiskRead,
  workspaceStart,
  workspaceStop,
} from "../../api/workspace-disk.js";
import { snakeKeys, type CamelKeys } from "./case.js";

type OptionsOf<Op> = Op extends Operation<infer Input, unknown> ? CamelKeys<z.input<Input>> : never;
type OutputOf<Op> = Op extends Operation<z.ZodObject, infer Output> ? Output : never;

/** Callbacks for long operations: progress phases and live guest output. */
export type CallHooks = Partial<OperationContext>;

/**
 * The pyro SDK: every operation of the CLI and the MCP server as a method. Options are camelCase;
 * results have the same snake_case shape as `--json` output and MCP structured content.
 * Failures throw PyroError (with `code`, `hint`); a guest command's non-zero exit is a result.
 */
export class Pyro {
  private call<Op extends Operation<z.ZodObject, unknown>>(
    operation: Op,
    options: object,
    hooks?: CallHooks,
  ): Promise<OutputOf<Op>> {
    return invokeOperation(operation, snakeKeys(options as Record<string, unknown>), hooks) as Promise<
      OutputOf<Op>
    >;
  }

  /** Runs one command in a fresh microVM, then deletes the VM. */
  runInVm(options: OptionsOf<typeof vmRun>, hooks?: CallHooks): Promise<OutputOf<typeof vmRun>> {
    return this.call(vmRun, options, hooks);
  }

  createVm(options: OptionsOf<typeof vmCreate> = {}, hooks?: CallHooks): Promise<OutputOf<typeof vmCreate>> {
    return this.call(vmCreate, options, hooks);
  }

  startVm(vmId: string): Promise<OutputOf<typeof vmStart>> {
    return this.call(vmStart, { vmId });
  }

  /** Runs one command in a started VM and deletes the VM afterwards. */
  execVm(options: OptionsOf<typeof vmExec>, hooks?: CallHooks): Promise<OutputOf<typeof vmExec>> {
    return this.call(vmExec, options, hooks);
  }

  stopVm(vmId: string): Promise<OutputOf<typeof vmStop>> {
    return this.call(vmStop, { vmId });
  }

  deleteVm(vmId: string): Promise<OutputOf<typeof vmDelete>> {
    return this.call(vmDelete, { vmId });
  }

  statusVm(vmId: string): Promise<OutputOf<typeof vmStatus>> {
    return this.call(vmStatus, { vmId });
  }

  listVms(): Promise<OutputOf<typeof vmList>> {
    return this.call(vmList, {});
  }

  networkInfoVm(vmId: string): Promise<OutputOf<typeof vmNetworkInfo>> {
    return this.call(vmNetworkInfo, { vmId });
  }

  reapExpired(): Promise<OutputOf<typeof vmReapExpired>> {
    return this.call(vmReapExpired, {});
  }

  listEnvironments(): Promise<OutputOf<typeof envList>> {
    return this.call(envList, {});
  }

  inspectEnvironment(environment: string): Promise<OutputOf<typeof envInspect>> {
    return this.call(envInspect, { environment });
  }

  pullEnvironment(
    environment: string,
    options: { force?: boolean } = {},
    hooks?: CallHooks,
  ): Promise<OutputOf<typeof envPull>> {
    return this.call(envPull, { environment, ...options }, hooks);
  }

  buildEnvironment(
    environment: string,
    options: { force?: boolean } = {},
    hooks?: CallHooks,
  ): Promise<OutputOf<typeof envBuild>> {
    return this.call(envBuild, { environment, ...options }, hooks);
  }

  pruneEnvironments(): Promise<OutputOf<typeof envPrune>> {
    return this.call(envPrune, {});
  }

  doctor(): Promise<OutputOf<typeof doctor>> {
    return this.call(doctor, {});
  }

  // Workspaces: persistent sandboxes.

  createWorkspace(
    options: OptionsOf<typeof workspaceCreate> = {},
    hooks?: CallHooks,
  ): Promise<OutputOf<typeof workspaceCreate>> {
    return this.call(workspaceCreate, options, hooks);
  }

  listWorkspaces(): Promise<OutputOf<typeof workspaceList>> {
    return this.call(workspaceList, {});
  }

  updateWorkspace(options: OptionsOf<typeof workspaceUpdate>): Promise<OutputOf<typeof workspaceUpdate>> {
    return this.call(workspaceUpdate, options);
  }

  statusWorkspace(workspaceId: string): Promise<OutputOf<typeof workspaceStatus>> {
    return this.call(workspaceStatus, { workspaceId });
  }

  logsWorkspace(workspaceId: string): Promise<OutputOf<typeof workspaceLogsOp>> {
    return this.call(workspaceLogsOp, { workspaceId });
  }

  deleteWorkspace(workspaceId: string): Promise<OutputOf<typeof workspaceDelete>> {
    return this.call(workspaceDelete, { workspaceId });
  }

  pushWorkspaceSync(
    options: OptionsOf<typeof workspaceSyncPush>,
  ): Promise<OutputOf<typeof workspaceSyncPush>> {
    return this.call(workspaceSyncPush, options);
  }

  execWorkspace(
    options: OptionsOf<typeof workspaceExec>,
    hooks?: CallHooks,
  ): Promise<OutputOf<typeof workspaceExec>> {
    return this.call(workspaceExec, options, hooks);
  }

  listWorkspaceFiles(
    options: OptionsOf<typeof workspaceFileList>,
  ): Promise<OutputOf<typeof workspaceFileList>> {
    return this.call(workspaceFileList, options);
  }

  readWorkspaceFile(
    options: OptionsOf<typeof workspaceFileRead>,
  ): Promise<OutputOf<typeof workspaceFileRead>> {
    return this.call(workspaceFileRead, options);
  }

  writeWorkspaceFile(
    options: OptionsOf<typeof workspaceFileWrite>,
  ): Promise<OutputOf<typeof workspaceFileWrite>> {
    return this.call(workspaceFileWrite, options);
  }

  applyWorkspacePatch(
    options: OptionsOf<typeof workspacePatchApply>,
  ): Promise<OutputOf<typeof workspacePatchApply>> {
    return this.call(workspacePatchApply, options);
  }

  diffWorkspace(workspaceId: string): Promise<OutputOf<typeof workspaceDiff>> {
    return this.call(workspaceDiff, { workspaceId });
  }

  exportWorkspace(options: OptionsOf<typeof workspaceExport>): Promise<OutputOf<typeof workspaceExport>> {
    return this.call(workspaceExport, options);
  }

  resetWorkspace(
    options: OptionsOf<typeof workspaceReset>,
    hooks?: CallHooks,
  ): Promise<OutputOf<typeof workspaceReset>> {
    return this.call(workspaceReset, options, hooks);
  }

  createSnapshot(workspaceId: string, snapshotName: string): Promise<OutputOf<typeof snapshotCreate>> {
    return this.call(snapshotCreate, { workspaceId, snapshotName });
  }

  listSnapshots(workspaceId: string): Promise<OutputOf<typeof snapshotList>> {
    return this.call(snapshotList, { workspaceId });
  }

  deleteSnapshot(workspaceId: string, snapshotName: string): Promise<OutputOf<typeof snapshotDelete>> {
    return this.call(snapshotDelete, { workspaceId, snapshotName });
  }

  // Shells and services: interactive terminals and long-running processes in a workspace.

  openShell(options: OptionsOf<typeof shellOpen>): Promise<OutputOf<typeof shellOpen>> {
    return this.call(shellOpen, options);
  }

  writeShell(options: OptionsOf<typeof shellWrite>): Promise<OutputOf<typeof shellWrite>> {
    return this.call(shellWrite, options);
  }

  readShell(options: OptionsOf<typeof shellRead>): Promise<OutputOf<typeof shellRead>> {
    return this.call(shellRead, options);
  }

  signalShell(options: OptionsOf<typeof shellSignal>): Promise<OutputOf<typeof shellSignal>> {
    return this.call(shellSignal, options);
  }

  closeShell(workspaceId: string, shellId: string): Promise<OutputOf<typeof shellClose>> {
    return this.call(shellClose, { workspaceId, shellId });
  }

  startService(options: OptionsOf<typeof serviceStart>): Promise<OutputOf<typeof serviceStart>> {
    return this.call(serviceStart, options);
  }

  listServices(workspaceId: string): Promise<OutputOf<typeof serviceList>> {
    return this.call(serviceList, { workspaceId });
  }

  statusService(workspaceId: string, serviceName: string): Promise<OutputOf<typeof serviceStatus>> {
    return this.call(serviceStatus, { workspaceId, serviceName });
  }

  logsService(options: OptionsOf<typeof serviceLogsOp>): Promise<OutputOf<typeof serviceLogsOp>> {
    return this.call(serviceLogsOp, options);
  }

  stopService(workspaceId: string, serviceName: string): Promise<OutputOf<typeof serviceStop>> {
    return this.call(serviceStop, { workspaceId, serviceName });
  }

  // Stop, start and offline disk tools.

  stopWorkspace(workspaceId: string): Promise<OutputOf<typeof workspaceStop>> {
    return this.call(workspaceStop, { workspaceId });
  }

  startWorkspace(workspaceId: string): Promise<OutputOf<typeof workspaceStart>> {
    return this.call(workspaceStart, { workspaceId });
  }

  listWorkspaceDisk(
    options: OptionsOf<typeof workspaceDiskList>,
  ): Promise<OutputOf<typeof workspaceDiskList>> {
    return this.call(workspaceDiskList, options);
  }

  readWorkspaceDisk(
    options: OptionsOf<typeof workspaceDiskRead>,
  ): Promise<OutputOf<typeof workspaceDiskRead>> {
    return this.call(workspaceDiskRead, options);
  }

  exportWorkspaceDisk(
    options: OptionsOf<typeof workspaceDiskExport>,
  ): Promise<OutputOf<typeof workspaceDiskExport>> {
    return this.call(workspaceDiskExport, options);
  }
}
