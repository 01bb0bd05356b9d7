import type { EnvironmentListItem } from "../../environments/index.js";
import { defineOperation, NO_INPUT } from "../types.js";

/**
 * The listings that take no parameters, in a spec module of their own that loads no zod: their
 * commands only read state and must start about as fast as node itself (environments.ts and
 * workspace.ts list them with the rest of their group).
 */

const handlers = () => import("../handlers/listings.js");

/** What `env list` returns: the catalog's version and registry, then every environment. */
export interface EnvironmentListing {
  catalog_version: string;
  /** The registry catalog names are pulled from, or null (they are built locally). */
  registry: string | null;
  environments: EnvironmentListItem[];
  count: number;
}

export const envList = defineOperation({
  name: "vm_list_environments",
  sdkMethod: "listEnvironments",
  cli: { example: "pyro env list", words: ["env", "list"], scope: "env" },
  description:
    "List the environment catalog (debian:12, debian:12-base, debian:12-build), its version, and every installed environment (imported and pulled ones too).",
  input: NO_INPUT,
  profiles: ["vm-run", "workspace-core", "workspace-full"],
  loadHandler: async () => (await handlers()).listEnvironments,
  render: (output: EnvironmentListing) =>
    [
      `Catalog version: ${output.catalog_version}`,
      ...output.environments.map(
        (env) =>
          `${env.name.padEnd(16)} [${env.installed ? "installed" : env.status === "corrupt" ? "corrupt: rebuild with env pull --force" : "not installed"}] ${env.description}`,
      ),
    ].join("\n"),
});

export const workspaceList = defineOperation({
  name: "workspace_list",
  sdkMethod: "listWorkspaces",
  cli: { example: "pyro workspace list --json", words: ["workspace", "list"], scope: "workspace" },
  description: "List workspaces, most recent mutating activity first.",
  input: NO_INPUT,
  profiles: ["workspace-core", "workspace-full"],
  loadHandler: async () => (await handlers()).listWorkspaces,
  render: (output) =>
    output.count === 0
      ? "no workspaces"
      : output.workspaces
          .map(
            (w) =>
              `${w.workspace_id}  ${w.state.padEnd(8)} ${w.environment}  ${w.name ?? "-"}  last activity ${w.last_activity_at}`,
          )
          .join("\n"),
});

export const LISTING_OPERATIONS = [envList, workspaceList] as const;
