import { z } from "zod";
import type {
  EnvironmentDetails,
  ImageConfig,
  PruneReport,
  PushResult,
  VerifyReport,
} from "../../environments/index.js";
import type { TemplateInfo } from "../../sandbox/templates/list.js";
import type { PrunedTemplate } from "../../sandbox/templates/list.js";
import { memMibParam, vcpuCountParam } from "../limits.js";
import { printableLine } from "../terminal-text.js";
import { defineOperation } from "../types.js";
import { envList } from "./listings.js";

const nameParam = z.string().min(1).describe("Environment name, e.g. debian:12.");

export const envInspectInput = z.object({ environment: nameParam });
export const envBuildInput = z.object({
  environment: nameParam,
  force: z.boolean().default(false).describe("Rebuild even when a valid copy is installed."),
});

const registryParams = {
  insecure: z
    .boolean()
    .default(false)
    .describe("Reach the registry over plain HTTP. Only for a registry you run and name yourself."),
  username: z
    .string()
    .min(1)
    .max(256)
    .optional()
    .describe("Registry user name. Without it: the Docker config file's credentials, else anonymous."),
  password: z
    .string()
    .min(1)
    .max(8192)
    .optional()
    .describe("Registry password or token, with username (the CLI reads it with --password-stdin)."),
};

export const envPullInput = z.object({
  environment: z
    .string()
    .min(1)
    .max(512)
    .describe(
      "A catalog name (debian:12) or an OCI reference to a pyro environment (registry/repo:tag or @sha256:…).",
    ),
  force: z
    .boolean()
    .default(false)
    .describe("Fetch (or build) again even when the installed copy is current."),
  ...registryParams,
});

export const envPushInput = z.object({
  environment: nameParam,
  reference: z.string().min(1).max(512).describe("Where to publish it: registry/repository:tag."),
  ...registryParams,
});

export const envImportInput = z.object({
  image: z
    .string()
    .min(1)
    .max(4096)
    .describe(
      "A container image: registry/repository:tag (or @sha256:…), or oci:DIR[:TAG] for an OCI image layout.",
    ),
  name: z
    .string()
    .min(1)
    .max(64)
    .describe("Name of the new environment, e.g. alpine:3.20 (not a catalog name)."),
  force: z.boolean().default(false).describe("Replace an environment of that name imported before."),
  ...registryParams,
});

export const envVerifyInput = z.object({ environment: nameParam });

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

/**
 * An imported image's config, as commands in it get it. Every value came from the image, so none
 * reaches the terminal raw; Entrypoint and Cmd show as JSON arrays, so argv words stay apart.
 */
function imageRows(image: ImageConfig): Array<[string, string]> {
  const argv = (words: string[] | null): string =>
    words === null ? "-" : printableLine(JSON.stringify(words));
  const env = image.env.length === 0 ? ["-"] : image.env.map(printableLine);
  return [
    [
      "image user",
      image.user ? printableLine(`${image.user.spec} (${image.user.uid}:${image.user.gid})`) : "-",
    ],
    ["image workdir", image.working_dir === null ? "-" : printableLine(image.working_dir)],
    ["image entrypoint", argv(image.entrypoint)],
    ["image cmd", argv(image.cmd)],
    ...env.map((entry, index): [string, string] => [index === 0 ? "image env" : "", entry]),
  ];
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
    ["source", printableLine(details.origin ?? details.source ?? "-")],
  ];
  for (const artifact of details.artifacts) rows.push([`${artifact.role} sha256`, artifact.sha256]);
  if (details.image) rows.push(...imageRows(details.image));
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
  cli: {
    example: "pyro env inspect debian:12",
    words: ["env", "inspect"],
    positionals: ["environment"],
    scope: "env",
  },
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
  cli: {
    example: "pyro env build debian:12 --force",
    words: ["env", "build"],
    positionals: ["environment"],
    scope: "build",
  },
  description:
    "Build an environment locally from Debian's archive (root filesystem, kernel, initramfs) into the cache.",
  input: envBuildInput,
  profiles: ["workspace-full"],
  loadHandler: async () => (await handlers()).buildEnvironment,
  render: renderEnvironment,
});

/** An environment after `env pull`: how it got there, then what `env inspect` shows. */
export type PulledEnvironment = EnvironmentDetails & {
  pull: {
    source: "registry" | "cached" | "local-build";
    reference: string | null;
    digest: string | null;
    note: string | null;
  };
};

export const envPull = defineOperation({
  name: "env_pull",
  sdkMethod: "pullEnvironment",
  cli: {
    example: "pyro env pull debian:12",
    words: ["env", "pull"],
    positionals: ["environment"],
    scope: "pull",
    custom: ["password"],
  },
  description:
    "Install an environment: a catalog name from the catalog's registry (PYRO_ENVIRONMENT_REGISTRY), or any pyro environment by OCI reference. Blobs are verified by digest and shared in a content-addressed cache. With no registry configured or reachable, a catalog name is built locally from Debian's archive.",
  input: envPullInput,
  profiles: ["workspace-full"],
  loadHandler: async () => (await handlers()).pullEnvironment,
  render: (output: PulledEnvironment) => {
    const how =
      output.pull.source === "local-build"
        ? `built locally: ${output.pull.note ?? ""}`
        : `${output.pull.source === "cached" ? "already current" : "pulled"}: ${output.pull.reference}@${output.pull.digest}`;
    return `${how}\n${renderEnvironment(output)}`;
  },
});

export const envPush = defineOperation({
  name: "env_push",
  sdkMethod: "pushEnvironment",
  cli: {
    example:
      "pyro env push debian:12 registry.example.com/team/debian:12 --username me --password-stdin < token.txt",
    words: ["env", "push"],
    positionals: ["environment", "reference"],
    scope: "push",
    custom: ["password"],
  },
  description:
    "Publish an installed environment (kernel, initramfs, root image, manifest) to an OCI registry as a pyro environment artifact, so other hosts can `env pull` it.",
  input: envPushInput,
  profiles: ["workspace-full"],
  loadHandler: async () => (await handlers()).pushEnvironment,
  render: (output: PushResult) =>
    [
      `pushed ${output.environment} to ${output.reference}@${output.digest}`,
      ...output.layers.map((layer) => `  ${layer.role.padEnd(10)} ${layer.digest} ${layer.size} bytes`),
      `uploaded ${output.uploaded_bytes} of ${output.total_bytes} bytes (the registry had the rest)`,
    ].join("\n"),
});

export const envImport = defineOperation({
  name: "env_import",
  sdkMethod: "importEnvironment",
  cli: {
    example: "pyro env import docker.io/library/python:3.12-slim --name python:3.12",
    words: ["env", "import"],
    positionals: ["image"],
    scope: "import",
    custom: ["password"],
  },
  description:
    "Make an environment of any OCI or Docker container image (from a registry or an OCI layout): its layers become the root filesystem, booted with pyro's kernel and agent; commands run with the image's Env, WorkingDir and User.",
  input: envImportInput,
  profiles: ["workspace-full"],
  loadHandler: async () => (await handlers()).importEnvironment,
  render: renderEnvironment,
});

export const envVerify = defineOperation({
  name: "env_verify",
  sdkMethod: "verifyEnvironment",
  cli: {
    example: "pyro env verify debian:12",
    words: ["env", "verify"],
    positionals: ["environment"],
    scope: "env",
  },
  description:
    "Hash every file of an installed environment again and compare it with its manifest; shows each artifact's digest and where the environment came from.",
  input: envVerifyInput,
  profiles: ["workspace-full"],
  loadHandler: async () => (await handlers()).verifyEnvironment,
  render: (output: VerifyReport) =>
    [
      `${output.environment}: ${output.ok ? "every artifact matches its manifest" : "DAMAGED"}`,
      ...output.files.map(
        (file) => `  ${file.ok ? "ok " : "BAD"} ${file.role.padEnd(10)} ${file.path} sha256:${file.sha256}`,
      ),
      `source: ${output.origin}`,
    ].join("\n"),
});

export const envWarm = defineOperation({
  name: "env_warm",
  sdkMethod: "warmEnvironment",
  cli: {
    example: "pyro env warm debian:12 --network",
    words: ["env", "warm"],
    positionals: ["environment"],
    scope: "env",
  },
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
  cli: { example: "pyro env prune --templates", words: ["env", "prune"], scope: "env" },
  description:
    "Remove unfinished builds, pulls and imports, stale locks, other versions, corrupt entries and blobs no installed environment uses from the environment cache, and memory templates of changed environments (all unused ones with templates).",
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

export const ENVIRONMENT_OPERATIONS = [
  envList,
  envInspect,
  envBuild,
  envPull,
  envPush,
  envImport,
  envVerify,
  envWarm,
  envPrune,
] as const;
