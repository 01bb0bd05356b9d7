import type { PhaseReporter } from "../../platform/phases.js";
import { toPyroError } from "../../errors/index.js";
import type { InputSchema, Operation, OperationContext } from "../../api/types.js";
import { printableText } from "../../api/terminal-text.js";
import { endProgressLine, stderrProgress } from "./progress.js";

/** `[scope] phase=NAME key=value…` lines on stderr, so stdout stays clean for results. */
export function stderrPhases(scope: string): PhaseReporter {
  return (phase, fields = {}) => {
    const pairs = Object.entries(fields).map(([key, value]) => `${key}=${formatValue(value)}`);
    endProgressLine();
    process.stderr.write(`[${scope}] ${[`phase=${phase}`, ...pairs].join(" ")}\n`);
  };
}

function formatValue(value: string | number): string {
  const text = String(value);
  return /\s/.test(text) ? JSON.stringify(text) : text;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Prints an error (never a stack trace) and returns the exit code from the catalog. */
export function reportError(error: unknown, json: boolean): number {
  const pyroError = toPyroError(error);
  endProgressLine();
  if (json) {
    printJson({ error: pyroError.toJSON() });
  } else {
    // Messages may quote guest text (a path, a log line): shown, never interpreted by the terminal.
    process.stderr.write(
      `error [${pyroError.code}]: ${printableText(pyroError.message)}\nhint: ${printableText(pyroError.hint)}\n` +
        `docs: ${printableText(pyroError.docs)}\n`,
    );
  }
  if (pyroError.code === "INTERNAL" && process.env.PYRO_DEBUG && pyroError.cause instanceof Error) {
    process.stderr.write(`${pyroError.cause.stack ?? ""}\n`);
  }
  return pyroError.exitCode;
}

/** Runs an operation with the CLI's context (its one store, phases on stderr). */
export type Invoke = <Output>(
  operation: Operation<InputSchema, Output>,
  input: Record<string, unknown>,
  context: Partial<OperationContext>,
) => Promise<Output>;

/** The outcome of one call: the result, or the exit code of the error already reported. */
export type CallOutcome<Output> = { ok: true; output: Output } | { ok: false; exitCode: number };

/** Calls the operation; an error is reported (text or JSON) and becomes its catalog exit code. */
export async function callForCli<Output>(
  invoke: Invoke,
  operation: Operation<InputSchema, Output>,
  input: Record<string, unknown>,
  options: { json: boolean; scope: string; context?: Partial<OperationContext> },
): Promise<CallOutcome<Output>> {
  try {
    const output = await invoke(operation, input, {
      onPhase: stderrPhases(options.scope),
      onProgress: stderrProgress(options.scope, options.json),
      ...options.context,
    });
    endProgressLine();
    return { ok: true, output };
  } catch (error) {
    return { ok: false, exitCode: reportError(error, options.json) };
  }
}
