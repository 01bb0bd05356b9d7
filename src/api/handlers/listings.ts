import { listEnvironments as listCached, type EnvironmentListItem } from "../../environments/cache.js";
import { reapExpired } from "../../sandbox/reaper.js";
import {
  listWorkspaces as listSandboxWorkspaces,
  type WorkspaceInfo,
} from "../../sandbox/workspace/views.js";
import type { OperationContext } from "../types.js";

/** Handlers of the listings (specs/listings.ts): they read state only, and load nothing that boots a VM. */

export const listEnvironments = async (): Promise<{
  environments: EnvironmentListItem[];
  count: number;
}> => {
  const environments = await listCached();
  return { environments, count: environments.length };
};

export const listWorkspaces = async (
  _input: unknown,
  context: OperationContext,
): Promise<{ workspaces: WorkspaceInfo[]; count: number }> => {
  await reapExpired(context.store); // expired workspaces go before they would be listed
  const workspaces = listSandboxWorkspaces(context.store);
  return { workspaces, count: workspaces.length };
};
