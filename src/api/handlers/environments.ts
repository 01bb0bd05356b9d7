import type { z } from "zod";
import {
  buildEnvironment as buildCached,
  inspectEnvironment as inspectCached,
  pruneEnvironments as pruneCached,
  type EnvironmentDetails,
  type PruneReport,
} from "../../environments/index.js";
import type { OperationContext } from "../types.js";
import type {
  envBuildInput,
  envInspectInput,
  envPruneInput,
  envWarmInput,
  EnvironmentInspection,
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

export const pullEnvironment = async (
  input: BuildInput,
  context: OperationContext,
): Promise<EnvironmentDetails> => {
  context.onPhase("resolve", {
    environment: input.environment,
    source: "local-build",
    note: "no registry configured; building locally",
  });
  return installLocally(input, context);
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
