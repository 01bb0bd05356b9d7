import { silentPhases } from "../platform/phases.js";
import { PyroError } from "../errors/index.js";
import { maskDeep } from "../secrets/masker.js";
import { maskError, secretsFor } from "./secret-masking.js";
import { confineHostPaths } from "./host-paths.js";
import { takesNoInput, type InputSchema, type Operation, type OperationContext } from "./types.js";

type Parsed =
  | { success: true; data: Record<string, unknown> }
  | { success: false; error: { issues: ReadonlyArray<{ path: readonly PropertyKey[]; message: string }> } };

/** What zod's `z.object({})` gives: any object (unknown keys dropped) is valid, anything else is not. */
function parseNoInput(raw: unknown): Parsed {
  if (typeof raw === "object" && raw !== null && !Array.isArray(raw)) return { success: true, data: {} };
  const received = raw === null ? "null" : Array.isArray(raw) ? "array" : typeof raw;
  const message = `Invalid input: expected object, received ${received}`;
  return { success: false, error: { issues: [{ path: [], message }] } };
}

function parseInput(input: InputSchema, raw: unknown): Parsed {
  return takesNoInput(input) ? parseNoInput(raw) : input.safeParse(raw);
}

/**
 * Validates raw input against the operation's schema and runs it. Bad input → INVALID_ARGUMENT;
 * a host path outside the context's policy → HOST_PATH_DENIED, before anything runs.
 */
export async function invokeOperation<Output>(
  operation: Operation<InputSchema, Output>,
  rawInput: unknown,
  context: Partial<OperationContext> & Pick<OperationContext, "store">,
): Promise<Output> {
  const { store } = context;
  const parsed = parseInput(operation.input, rawInput ?? {});
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
