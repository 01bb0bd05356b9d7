import { z } from "zod";
import type { EnvironmentDetails, PruneReport } from "../../environments/index.js";
import type { TemplateInfo } from "../../sandbox/templates/list.js";
import type { PrunedTemplate } from "../../sandbox/templates/list.js";
import { memMibParam, vcpuCountParam } from "../limits.js";
import { defineOperation } from "../types.js";
import { envList } from "./listings.js";

const nameParam = z.string().min(1).describe("Environment name, e.g. debian:12.");

export const envInspectInput = z.object({ environment: nameParam });
export const envBuildInput = z.object({
  environment: nameParam,
  force: z.boolean().default(false).describe("Rebuild even when a valid copy is installed."),
});

export const envWarmInput = z.object({
  environment: nameParam,
  vcpu_count: vcpuCountParam,
  mem_mib: memMibParam,
  network: z
    .boolean()
    .default(false)
    .describe("Warm the template for guests with a network device (any policy but off)."),
});
export const envPruneInput = z.object({
  templates: z
    .boolean()
    .default(false)
    .describe("Also remove every memory template not in use (they are made again on first use)."),
});

const handlers = () => import("../handlers/environments.js");

/** An environment with its memory templates (env inspect). */
export type EnvironmentInspection = EnvironmentDetails & { templates: TemplateInfo[] };

export function renderTemplate(t: TemplateInfo): string {
  const shape = `${t.vcpu_count} vCPU, ${t.mem_mib} MiB, ${t.network ? "network" : "no network"}`;
  const cost = `boot ${t.boot_ms} ms, save ${t.save_ms} ms, restore check ${t.verify_ms} ms`;
  const size = `${(t.disk_bytes / 1024 ** 2).toFixed(1)} MiB on disk`;
  return `${t.name}  ${shape}; ${t.driver}/${t.accel}; ${size}; ${cost}${t.stale ? "; STALE" : ""}`;
}

export function renderEnvironment(details: EnvironmentDetails | EnvironmentInspection): string {
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
  if ("templates" in details)
    rows.push(["memory templates", details.templates.length === 0 ? "none (made on first use)" : ""]);
  const lines = rows.map(([key, value]) => `${key.padEnd(17)}${value}`.trimEnd());
  if ("templates" in details) lines.push(...details.templates.map((t) => `  ${renderTemplate(t)}`));
  return lines.join("\n");
}

export const envInspect = defineOperation({
  name: "env_inspect",
  sdkMethod: "inspectEnvironment",
  cli: { words: ["env", "inspect"], positionals: ["environment"], scope: "env" },
  description:
    "Show an environment's version, install state, files, kernel, default packages and memory templates.",
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

export const envWarm = defineOperation({
  name: "env_warm",
  sdkMethod: "warmEnvironment",
  cli: { words: ["env", "warm"], positionals: ["environment"], scope: "env" },
  description:
    "Make the memory template sandboxes of this environment and shape restore from (instead of booting), so the first one does not wait for it.",
  input: envWarmInput,
  profiles: ["workspace-full"],
  loadHandler: async () => (await handlers()).warmEnvironment,
  render: renderTemplate,
});

export const envPrune = defineOperation({
  name: "env_prune",
  sdkMethod: "pruneEnvironments",
  cli: { words: ["env", "prune"], scope: "env" },
  description:
    "Remove unfinished builds, stale locks, other versions and corrupt entries from the environment cache, and memory templates of changed environments (all unused ones with templates).",
  input: envPruneInput,
  profiles: ["workspace-full"],
  loadHandler: async () => (await handlers()).pruneEnvironments,
  render: (output: PruneReport & { templates: PrunedTemplate[] }) => {
    const removed = [...output.removed, ...output.templates];
    return removed.length === 0
      ? "nothing to prune"
      : removed.map((entry) => `removed ${entry.path} (${entry.reason})`).join("\n");
  },
});

export const ENVIRONMENT_OPERATIONS = [envList, envInspect, envBuild, envPull, envWarm, envPrune] as const;
