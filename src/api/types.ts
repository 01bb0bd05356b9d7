import type { z } from "zod";
import type { PhaseReporter, ProgressReporter } from "../platform/phases.js";
import type { SandboxStore } from "../sandbox/store.js";
import type { HostPathAccess, HostPathPolicy } from "./host-paths.js";

/** MCP tool profiles: which tools `pyro mcp serve --profile` exposes. */
export type Profile = "vm-run" | "workspace-core" | "workspace-full";

export interface OperationContext {
  /** The sandboxes this call works on (its home and options). */
  store: SandboxStore;
  onPhase: PhaseReporter;
  /** Transfer progress (pulls, pushes, imports): a bar on a terminal, MCP progress notifications. */
  onProgress?: ProgressReporter;
  /** Live guest output for surfaces that stream it (the CLI); others rely on the captured result. */
  onStdout?: (chunk: Buffer) => void | Promise<void>;
  onStderr?: (chunk: Buffer) => void | Promise<void>;
  /** Confines the operation's host paths (the MCP server sets it); absent, any host path is allowed. */
  hostPathPolicy?: HostPathPolicy;
}

/**
 * What an operation that takes no parameters declares as its input instead of `z.object({})`:
 * its spec then loads without zod, so the commands that only read state (`workspace list`,
 * `env list`, `doctor`) start fast. Surfaces that publish a schema use `z.object({})` for it
 * (api/input-schema.ts); invokeOperation validates it the way zod would.
 */
export interface NoInput {
  readonly parameters: "none";
}
export const NO_INPUT: NoInput = Object.freeze({ parameters: "none" });

export const takesNoInput = (input: InputSchema): input is NoInput => input === NO_INPUT;

/** An operation's input: a zod object, or none at all. */
export type InputSchema = z.ZodObject | NoInput;

/** The validated input a handler gets. */
export type InputOf<Input extends InputSchema> = Input extends z.ZodObject
  ? z.output<Input>
  : Record<string, never>;

/** The input a caller gives (defaults not yet filled). */
export type RawInputOf<Input extends InputSchema> = Input extends z.ZodObject
  ? z.input<Input>
  : Record<string, never>;

/** What runs an operation, given its validated (snake_case) input. */
export type Handler<Input extends InputSchema, Output> = (
  input: InputOf<Input>,
  context: OperationContext,
) => Promise<Output>;

/**
 * How the CLI spells an operation. Every input parameter is a flag `--kebab-name` unless it is
 * listed here as a positional argument, renamed, or left to surface-specific code; whether it
 * must be given, its type, help text and default come from the input schema.
 */
export interface CliSpec {
  /** Command words, e.g. ["workspace", "sync", "push"]. */
  words: readonly string[];
  /** A command line that shows the command in real use; `--help` prints it under "Example:". */
  example: string;
  /** Parameters given as positional arguments, in order; `command` takes the words after `--`. */
  positionals?: readonly string[];
  /** Flags spelled otherwise than `--kebab-name`, e.g. { output_path: "--output" }. */
  flags?: Readonly<Record<string, string>>;
  /** Parameters the CLI fills through its own options (cli/extras.ts), not through a flag of their own. */
  custom?: readonly string[];
  /** Prefix of the `[scope] phase=…` lines on stderr; default the command words joined by "-". */
  scope?: string;
}

/**
 * One operation, defined once: the CLI, the SDK and the MCP server are generated from this.
 * Names: MCP tool `vm_run` = SDK `runInVm` = CLI `pyro run`. The spec never loads its handler's
 * dependencies: `loadHandler` imports them when the operation is called.
 */
export interface Operation<
  Input extends InputSchema = InputSchema,
  Output = unknown,
  Name extends string = string,
  Method extends string = string,
> {
  /** MCP tool name (snake_case). */
  name: Name;
  /** SDK method name (camelCase). */
  sdkMethod: Method;
  cli: CliSpec;
  description: string;
  input: Input;
  profiles: readonly Profile[];
  /** Parameters offered only by the workspace-full profile (secrets, network policy). */
  fullProfileOnly?: readonly string[];
  /** Parameters naming host paths (a string, or a record of them), checked against the caller's policy. */
  hostPaths?: Readonly<Record<string, HostPathAccess>>;
  loadHandler(): Promise<Handler<Input, Output>>;
  /** Human-readable rendering for the CLI and the MCP text content. */
  render(output: Output): string;
}

/** Any operation, whatever its input and output: what the surfaces iterate over. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyOperation = Operation<InputSchema, any>;

export function defineOperation<
  Input extends InputSchema,
  Output,
  const Name extends string,
  const Method extends string,
>(operation: Operation<Input, Output, Name, Method>): Operation<Input, Output, Name, Method> {
  return operation;
}
