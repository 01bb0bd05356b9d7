import type { PhaseReporter } from "../../platform/phases.js";
import { PyroError, toPyroError } from "../../errors/index.js";
import type { OperationContext } from "../../api/types.js";
import { printableText } from "../../api/terminal-text.js";

/** `[scope] phase=NAME key=value…` lines on stderr, so stdout stays clean for results. */
export function stderrPhases(scope: string): PhaseReporter {
  return (phase, fields = {}) => {
    const pairs = Object.entries(fields).map(([key, value]) => `${key}=${formatValue(value)}`);
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
  if (json) {
    printJson({ error: pyroError.toJSON() });
  } else {
    // Messages may quote guest text (a path, a log line): shown, never interpreted by the terminal.
    process.stderr.write(
      `error [${pyroError.code}]: ${printableText(pyroError.message)}\nhint: ${printableText(pyroError.hint)}\n`,
    );
  }
  if (pyroError.code === "INTERNAL" && process.env.PYRO_DEBUG && pyroError.cause instanceof Error) {
    process.stderr.write(`${pyroError.cause.stack ?? ""}\n`);
  }
  return pyroError.exitCode;
}

export interface RunOptions {
  json: boolean;
  scope: string;
  context?: Partial<OperationContext>;
}

/** Runs an operation for the CLI: phases on stderr, text or JSON on stdout, catalog exit codes. */
export async function runForCli(
  operationName: string,
  input: Record<string, unknown>,
  options: RunOptions,
): Promise<number> {
  const { output, exitCode, render } = await runForCliQuiet(operationName, input, options);
  if (exitCode !== 0) return exitCode;
  if (options.json) printJson(output);
  else process.stdout.write(`${render(output)}\n`);
  return 0;
}

/** Like runForCli, but leaves printing the result to the caller. */
export async function runForCliQuiet(
  operationName: string,
  input: Record<string, unknown>,
  options: RunOptions,
): Promise<{ output: unknown; exitCode: number; render: (output: unknown) => string }> {
  // Loaded on demand, so `pyro --help` and `pyro --version` do not pay for the schemas.
  const [{ loadOperation }, { invokeOperation }] = await Promise.all([
    import("../../api/lazy.js"),
    import("../../api/invoke.js"),
  ]);
  const operation = await loadOperation(operationName);
  if (operation === undefined) throw new PyroError("INTERNAL", `no operation ${operationName}`);
  const render = (output: unknown): string => operation.render(output);
  try {
    const output = await invokeOperation(operation, input, {
      onPhase: stderrPhases(options.scope),
      ...options.context,
    });
    return { output, exitCode: 0, render };
  } catch (error) {
    return { output: null, exitCode: reportError(error, options.json), render };
  }
}

/** Parses an integer option strictly; anything else becomes a clear INVALID_ARGUMENT. */
export function integerOption(flag: string): (value: string) => number {
  return (value: string) => {
    if (!/^-?\d+$/.test(value.trim())) {
      throw new PyroError("INVALID_ARGUMENT", `${flag} must be a whole number, got "${value}"`);
    }
    return Number.parseInt(value, 10);
  };
}

/** Drops options the user did not give, so the schema defaults apply. */
export function stripUndefined(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined));
}

/** Parsed command options, as commander hands them to an action. */
export type Flags = Record<string, unknown>;

/** Accumulates a repeatable option's values. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export const wantsJson = (flags: Flags): boolean => flags.json === true;
