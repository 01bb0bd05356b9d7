import type { EnvironmentListing } from "../specs/listings.js";
import type { WorkspaceInfo } from "../../sandbox/workspace/views.js";
import type { OperationContext } from "../types.js";

/**
 * Handlers of the listings (specs/listings.ts): they read state only, load nothing that boots a
 * VM, and each loads only what it reads.
 */

export const listEnvironments = async (): Promise<EnvironmentListing> => {
  const [{ listEnvironments: listCached }, { catalogSummary }] = await Promise.all([
    import("../../environments/cache.js"),
    import("../../environments/catalog-version.js"),
  ]);
  const environments = await listCached();
  const catalog = catalogSummary();
  return {
    catalog_version: catalog.version,
    registry: catalog.registry,
    environments,
    count: environments.length,
  };
};

export const listWorkspaces = async (
  _input: unknown,
  context: OperationContext,
): Promise<{ workspaces: WorkspaceInfo[]; count: number }> => {
  const [{ reapExpired }, { listWorkspaces: listSandboxWorkspaces }] = await Promise.all([
    import("../../sandbox/reaper.js"),
    import("../../sandbox/workspace/views.js"),
  ]);
  await reapExpired(context.store); // expired workspaces go before they would be listed
  const workspaces = listSandboxWorkspaces(context.store);
  return { workspaces, count: workspaces.length };
};
