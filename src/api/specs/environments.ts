import { z } from "zod";
import type { EnvironmentDetails, PruneReport } from "../../environments/index.js";
import { defineOperation } from "../types.js";
import { envList } from "./listings.js";

const nameParam = z.string().min(1).describe("Environment name, e.g. debian:12.");

export const envInspectInput = z.object({ environment: nameParam });
export const envBuildInput = z.object({
  environment: nameParam,
  force: z.boolean().default(false).describe("Rebuild even when a valid copy is installed."),
});

const handlers = () => import("../handlers/environments.js");

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

export const envInspect = defineOperation({
  name: "env_inspect",
  sdkMethod: "inspectEnvironment",
  cli: { words: ["env", "inspect"], positionals: ["environment"], scope: "env" },
  description: "Show an environment's version, install state, files, kernel and default packages.",
  input: envInspectInput,
  profiles: ["workspace-full"],
  loadHandler: async () => (await handlers()).inspectEnvironment,
  render: renderEnvironment,
});

export const envBuild = defineOperation({
  name: "env_build",
  sdkMethod: "buildEnvironment",
  cli: { words: ["env", "build"], positionals: ["environment"], scope: "build" },
  description:
    "Build an environment locally from Debian's archive (root filesystem, kernel, initramfs) into the cache.",
  input: envBuildInput,
  profiles: ["workspace-full"],
  loadHandler: async () => (await handlers()).buildEnvironment,
  render: renderEnvironment,
});

export const envPull = defineOperation({
  name: "env_pull",
  sdkMethod: "pullEnvironment",
  cli: { words: ["env", "pull"], positionals: ["environment"], scope: "pull" },
  description:
    "Install an environment into the cache. This version builds it locally from Debian's archive (registry pulls come later).",
  input: envBuildInput,
  profiles: ["workspace-full"],
  loadHandler: async () => (await handlers()).pullEnvironment,
  render: renderEnvironment,
});

export const envPrune = defineOperation({
  name: "env_prune",
  sdkMethod: "pruneEnvironments",
  cli: { words: ["env", "prune"], scope: "env" },
  description:
    "Remove unfinished builds, stale locks, other versions and corrupt entries from the environment cache.",
  input: z.object({}),
  profiles: ["workspace-full"],
  loadHandler: async () => (await handlers()).pruneEnvironments,
  render: (output: PruneReport) =>
    output.removed.length === 0
      ? "nothing to prune"
      : output.removed.map((entry) => `removed ${entry.path} (${entry.reason})`).join("\n"),
});

export const ENVIRONMENT_OPERATIONS = [envList, envInspect, envBuild, envPull, envPrune] as const;
