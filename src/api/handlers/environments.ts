import type { z } from "zod";
import {
  buildEnvironment as buildCached,
  inspectEnvironment as inspectCached,
  pruneEnvironments as pruneCached,
  type EnvironmentDetails,
  type PruneReport,
  type PushResult,
  type VerifyReport,
} from "../../environments/index.js";
import type { OperationContext } from "../types.js";
import { PyroError } from "../../errors/index.js";
import { confineHostPath } from "../host-paths.js";
import type {
  envBuildInput,
  envImportInput,
  envInspectInput,
  envPruneInput,
  envPullInput,
  envPushInput,
  envVerifyInput,
  envWarmInput,
  EnvironmentInspection,
  PulledEnvironment,
} from "../specs/environments.js";
import {
  listTemplates,
  pruneTemplates,
  type PrunedTemplate,
  type TemplateInfo,
} from "../../sandbox/templates/list.js";
import { warmTemplate } from "../../sandbox/vm/warm.js";

type BuildInput = z.output<typeof envBuildInput>;

export const inspectEnvironment = async (
  input: z.output<typeof envInspectInput>,
  context: OperationContext,
): Promise<EnvironmentInspection> => ({
  ...(await inspectCached(input.environment)),
  templates: listTemplates(context.store.home, input.environment),
});

export const warmEnvironment = (
  input: z.output<typeof envWarmInput>,
  context: OperationContext,
): Promise<TemplateInfo> =>
  warmTemplate(context.store, {
    environment: input.environment,
    vcpuCount: input.vcpu_count,
    memMib: input.mem_mib,
    network: input.network,
    onPhase: context.onPhase,
  });

const PROGRESS_EVERY = 25;

/** Builds (or reuses a valid copy), reporting phases and, during the root filesystem, package counts. */
async function installLocally(input: BuildInput, context: OperationContext): Promise<EnvironmentDetails> {
  let reported = 0;
  await buildCached(input.environment, {
    force: input.force,
    onPhase: context.onPhase,
    onProgress: (progress) => {
      if (progress.count - reported < PROGRESS_EVERY) return;
      reported = progress.count;
      context.onPhase(progress.phase, { environment: input.environment, packages_done: progress.count });
    },
  });
  return inspectCached(input.environment);
}

export const buildEnvironment = installLocally;

type RegistryInput = { insecure: boolean; username?: string | undefined; password?: string | undefined };

function credentialsOf(input: RegistryInput): { username: string; password: string } | null {
  if (input.username === undefined && input.password === undefined) return null;
  if (input.username === undefined || input.password === undefined) {
    throw new PyroError("INVALID_ARGUMENT", "A registry login needs both a username and a password.", {
      hint: "Pass --username NAME with --password-stdin (the password on standard input).",
    });
  }
  return { username: input.username, password: input.password };
}

/** Blob transfer progress as the surfaces' progress reports. */
function transferProgress(context: OperationContext, phase: string) {
  return (progress: { done_bytes: number; total_bytes: number; cached_bytes: number }) =>
    context.onProgress?.({ phase, ...progress });
}

export const pullEnvironment = async (
  input: z.output<typeof envPullInput>,
  context: OperationContext,
): Promise<PulledEnvironment> => {
  const { pullEnvironment: pull } = await import("../../environments/pull-environment.js");
  let reported = 0;
  const outcome = await pull({
    target: input.environment,
    force: input.force,
    insecure: input.insecure,
    credentials: credentialsOf(input),
    onPhase: context.onPhase,
    onProgress: transferProgress(context, "fetch"),
    onBuildProgress: (progress) => {
      if (progress.count - reported < PROGRESS_EVERY) return;
      reported = progress.count;
      context.onPhase(progress.phase, { environment: input.environment, packages_done: progress.count });
    },
  });
  const { environment, ...pull_ } = outcome;
  return { ...(await inspectCached(environment.name)), pull: pull_ };
};

export const pushEnvironment = async (
  input: z.output<typeof envPushInput>,
  context: OperationContext,
): Promise<PushResult> => {
  const { pushEnvironment: push } = await import("../../environments/artifact/push.js");
  return push({
    name: input.environment,
    reference: input.reference,
    insecure: input.insecure,
    credentials: credentialsOf(input),
    onPhase: context.onPhase,
    onProgress: transferProgress(context, "upload"),
  });
};

/**
 * An OCI layout (`oci:DIR[:TAG]`) is a host path: an MCP caller may import one only from the
 * folders its server allows, like any other host path it names.
 */
async function confinedImage(image: string, context: OperationContext): Promise<string> {
  const policy = context.hostPathPolicy;
  if (policy === undefined) return image;
  const { parseLayoutReference } = await import("../../environments/import/oci-layout.js");
  const layout = parseLayoutReference(image);
  if (layout === null) return image;
  const dir = confineHostPath(policy, layout.dir, "image", "read");
  return `oci:${dir}${layout.tag === null ? "" : `:${layout.tag}`}`;
}

export const importEnvironment = async (
  input: z.output<typeof envImportInput>,
  context: OperationContext,
): Promise<EnvironmentDetails> => {
  const { importImage } = await import("../../environments/import/index.js");
  const environment = await importImage({
    image: await confinedImage(input.image, context),
    name: input.name,
    force: input.force,
    insecure: input.insecure,
    credentials: credentialsOf(input),
    onPhase: context.onPhase,
    onProgress: transferProgress(context, "fetch"),
  });
  return inspectCached(environment.name);
};

export const verifyEnvironment = async (input: z.output<typeof envVerifyInput>): Promise<VerifyReport> => {
  const { verifyEnvironment: verify } = await import("../../environments/verify-environment.js");
  return verify(input.environment);
};

export const pruneEnvironments = async (
  input: z.output<typeof envPruneInput>,
  context: OperationContext,
): Promise<PruneReport & { templates: PrunedTemplate[] }> => {
  const report = await pruneCached();
  const inUse = new Set(
    context.store.list().flatMap((record) => (record.template === null ? [] : [record.template])),
  );
  return { ...report, templates: pruneTemplates(context.store.home, { all: input.templates, inUse }) };
};
