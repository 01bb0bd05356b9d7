import type { z } from "zod";
import type { PhaseReporter } from "../platform/phases.js";
import type { SandboxStore } from "../sandbox/store.js";
import type { HostPathAccess, HostPathPolicy } from "./host-paths.js";

/** MCP tool profiles: which tools `pyro mcp serve --profile` exposes. */
export type Profile = "vm-run" | "workspace-core" | "workspace-full";

export interface OperationContext {
  /** The sandboxes this call works on (its home and options). */
  store: SandboxStore;
  onPhase: PhaseReporter;
  /** Live guest output for surfaces that stream it (the CLI); others rely on the captured result. */
  onStdout?: (chunk: Buffer) => void | Promise<void>;
  onStderr?: (chunk: Buffer) => void | Promise<void>;
  /** Confines the operation's host paths (the MCP server sets it); absent, any host path is allowed. */
  hostPathPolicy?: HostPathPolicy;
}

/**
 * One operation, defined once: the CLI, the SDK and the MCP server are thin adapters over this.
 * Names: MCP tool `vm_run` = SDK `runInVm` = CLI `pyro run`.
 */
export interface Operation<Input extends z.ZodObject = z.ZodObject, Output = unknown> {
  /** MCP tool name (snake_case). */
  name: string;
  /** SDK method name (camelCase). */
  sdkMethod: string;
  /** CLI command words, e.g. ["vm", "create"]. */
  cli: string[];
  description: string;
  input: Input;
  profiles: Profile[];
  /** Parameters offered only by the workspace-full profile (secrets, network policy). */
  fullProfileOnly?: string[];
  /** Parameters naming host paths (a string, or a record of them), checked against the caller's policy. */
  hostPaths?: Readonly<Record<string, HostPathAccess>>;
  handler(input: z.infer<Input>, context: OperationContext): Promise<Output>;
  /** Human-readable rendering for the CLI and the MCP text content. */
  render(output: Output): string;
}

export function defineOperation<Input extends z.ZodObject, Output>(
  operation: Operation<Input, Output>,
): Operation<Input, Output> {
  return operation;
}
