import { z } from "zod";
import {
  buildEnvironment,
  inspectEnvironment,
  listEnvironments,
  pruneEnvironments,
  type EnvironmentDetails,
} from "../environments/index.js";
import { defineOperation, type OperationContext } from "./types.js";

const nameParam = z.string().min(1).describe("Environment name, e.g. debian:12.");

export function renderEnvironment(details: EnvironmentDetails): string {
  const rows: Array<[string, string]> = [
    ["name", details.name],
    ["version", details.version],
    ["distribution", details.distribution],
    ["description", details.description],
    ["installed", String(details.installed)],
    ["cache dir", details.cache_dir],
    ["install dir", details.install_dir],
    ["default packages", details.default_packages.join(", ")],
    ["manifest", details.manifest ?? "-"],
    ["kernel image", details.kernel_image ?? "-"],
    ["kernel release", details.kernel_release ?? "-"],
    ["initramfs", details.initramfs ?? "-"],
    ["rootfs image", details.rootfs_image ?? "-"],
    ["source", details.source ?? "-"],
  ];
  if (details.problem) rows.push(["problem", details.problem]);
  return rows.map(([key, value]) => `${key.padEnd(17)}${value}`).join("\n");
}

export const envList = defineOperation({
  name: "vm_list_environments",
  sdkMethod: "listEnvironments",
  cli: ["env", "list"],
  description:
    "List the environment catalog (debian:12, debian:12-base, debian:12-build) and which are installed.",
  input: z.object({}),
  profiles: ["vm-run", "workspace-core", "workspace-full"],
  handler: async () => {
    const environments = await listEnvironments();
    return { environments, count: environments.length };
  },
  render: (output) =>
    output.environments
      .map(
        (env) =>
          `${env.name.padEnd(16)} [${env.installed ? "installed" : env.status === "corrupt" ? "corrupt: rebuild with env pull --force" : "not installed"}] ${env.description}`,
      )
      .join("\n"),
});

export const envInspect = defineOperation({
  name: "env_inspect",
  sdkMethod: "inspectEnvironment",
  cli: ["env", "inspect"],
  description: "Show an environment's version, install state, files, kernel and default packages.",
  input: z.object({ environment: nameParam }),
  profiles: ["workspace-full"],
  handler: (input) => inspectEnvironment(input.environment),
  render: renderEnvironment,
});

const buildShape = {
  environment: nameParam,
  force: z.boolean().default(false).describe("Rebuild even when a valid copy is installed."),
};

const PROGRESS_EVERY = 25;

/** Builds (or reuses a valid copy), reporting phases and, during the root filesystem, package counts. */
async function installLocally(
  input: { environment: string; force: boolean },
  context: OperationContext,
): Promise<EnvironmentDetails> {
  let reported = 0;
  await buildEnvironment(input.environment, {
    force: input.force,
    onPhase: context.onPhase,
    onProgress: (progress) => {
      if (progress.count - reported < PROGRESS_EVERY) return;
      reported = progress.count;
      context.onPhase(progress.phase, { environment: input.environment, packages_done: progress.count });
    },
  });
  return inspectEnvironment(input.environment);
}

export const envBuild = defineOperation({
  name: "env_build",
  sdkMethod: "buildEnvironment",
  cli: ["env", "build"],
  description:
    "Build an environment locally from Debian's archive (root filesystem, kernel, initramfs) into the cache.",
  input: z.object(buildShape),
  profiles: ["workspace-full"],
  handler: installLocally,
  render: renderEnvironment,
});

export const envPull = defineOperation({
  name: "env_pull",
  sdkMethod: "pullEnvironment",
  cli: ["env", "pull"],
  description:
    "Install an environment into the cache. This version builds it locally from Debian's archive (registry pulls come later).",
  input: z.object(buildShape),
  profiles: ["workspace-full"],
  handler: async (input, context) => {
    context.onPhase("resolve", {
      environment: input.environment,
      source: "local-build",
      note: "no registry configured; building locally",
    });
    return installLocally(input, context);
  },
  render: renderEnvironment,
});

export const envPrune = defineOperation({
  name: "env_prune",
  sdkMethod: "pruneEnvironments",
  cli: ["env", "prune"],
  description:
    "Remove unfinished builds, stale locks, other versions and corrupt entries from the environment cache.",
  input: z.object({}),
  profiles: ["workspace-full"],
  handler: () => pruneEnvironments(),
  render: (output) =>
    output.removed.length === 0
      ? "nothing to prune"
      : output.removed.map((entry) => `removed ${entry.path} (${entry.reason})`).join("\n"),
});

export const ENVIRONMENT_OPERATIONS = [envList, envInspect, envBuild, envPull, envPrune];
