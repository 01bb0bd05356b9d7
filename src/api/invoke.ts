import type { z } from "zod";
import { silentPhases } from "../platform/phases.js";
import { PyroError } from "../errors/index.js";
import { maskDeep } from "../secrets/masker.js";
import { maskError, secretsFor } from "./secret-masking.js";
import { confineHostPaths } from "./host-paths.js";
import type { Operation, OperationContext } from "./types.js";

/**
 * Validates raw input against the operation's schema and runs it. Bad input → INVALID_ARGUMENT;
 * a host path outside the context's policy → HOST_PATH_DENIED, before anything runs.
 */
export async function invokeOperation<Output>(
  operation: Operation<z.ZodObject, Output>,
  rawInput: unknown,
  context: Partial<OperationContext> & Pick<OperationContext, "store">,
): Promise<Output> {
  const { store } = context;
  const parsed = operation.input.safeParse(rawInput ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join(".") || "input"}: ${issue.message}`,
    );
    const error = new PyroError(
      "INVALID_ARGUMENT",
      `invalid input for ${operation.name}: ${problems.join("; ")}`,
      {
        details: {
          issues: parsed.error.issues.map((issue) => ({
            path: issue.path.join("."),
            message: issue.message,
          })),
        },
      },
    );
    throw maskError(error, await secretsFor(store, rawInput));
  }
  // Whatever comes back, result or error, can carry guest output or caller text: secret values
  // of the workspaces involved are masked here, once for all three surfaces.
  const policy = context.hostPathPolicy;
  let output: Output;
  try {
    const input =
      policy !== undefined && operation.hostPaths !== undefined
        ? confineHostPaths(policy, parsed.data, operation.hostPaths)
        : parsed.data;
    const handler = await operation.loadHandler();
    output = await handler(input, { onPhase: silentPhases, ...context, store });
  } catch (error) {
    throw maskError(error, await secretsFor(store, parsed.data));
  }
  return maskDeep(output, await secretsFor(store, parsed.data, output));
}
