import type { z } from "zod";
import { silentPhases } from "../core/phases.js";
import { PyroError } from "../errors/index.js";
import { confineHostPaths } from "./host-paths.js";
import type { Operation, OperationContext } from "./types.js";

/**
 * Validates raw input against the operation's schema and runs it. Bad input → INVALID_ARGUMENT;
 * a host path outside the context's policy → HOST_PATH_DENIED, before anything runs.
 */
export async function invokeOperation<Output>(
  operation: Operation<z.ZodObject, Output>,
  rawInput: unknown,
  context: Partial<OperationContext> = {},
): Promise<Output> {
  const parsed = operation.input.safeParse(rawInput ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join(".") || "input"}: ${issue.message}`,
    );
    throw new PyroError("INVALID_ARGUMENT", `invalid input for ${operation.name}: ${problems.join("; ")}`, {
      details: {
        issues: parsed.error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message })),
      },
    });
  }
  const policy = context.hostPathPolicy;
  const input =
    policy !== undefined && operation.hostPaths !== undefined
      ? confineHostPaths(policy, parsed.data, operation.hostPaths)
      : parsed.data;
  return operation.handler(input, { onPhase: silentPhases, ...context });
}
