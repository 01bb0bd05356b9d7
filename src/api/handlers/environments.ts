import type { z } from "zod";
import {
  buildEnvironment as buildCached,
  inspectEnvironment as inspectCached,
  pruneEnvironments as pruneCached,
  type EnvironmentDetails,
  type PruneReport,
} from "../../environments/index.js";
import type { OperationContext } from "../types.js";
import type { envBuildInput, envInspectInput } from "../specs/environments.js";

type BuildInput = z.output<typeof envBuildInput>;

export const inspectEnvironment = (input: z.output<typeof envInspectInput>): Promise<EnvironmentDetails> =>
  inspectCached(input.environment);

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

export const pruneEnvironments = (): Promise<PruneReport> => pruneCached();
