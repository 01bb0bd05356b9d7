import { CompiledSecrets, maskDeep } from "../secrets/masker.js";
import type { SandboxStore } from "../sandbox/store.js";
import { PyroError, toPyroError } from "../errors/index.js";

/** Every workspace id named in a value (input, result): their secrets are the ones to mask. */
function workspaceIds(value: unknown, found: Set<string>): Set<string> {
  if (Array.isArray(value)) for (const item of value) workspaceIds(item, found);
  else if (value !== null && typeof value === "object") {
    for (const [key, inner] of Object.entries(value)) {
      if (key === "workspace_id" && typeof inner === "string") found.add(inner);
      else if (typeof inner === "object") workspaceIds(inner, found);
    }
  }
  return found;
}

/**
 * The secrets that could show up in an operation's result or error: those of every workspace
 * it names, and the values a create is given inline. The workspaces' secret store is loaded only
 * when a workspace is named, so operations that name none (env list) never load the sandbox.
 */
export async function secretsFor(store: SandboxStore, ...values: unknown[]): Promise<CompiledSecrets> {
  const secrets: Array<readonly [string, Buffer]> = [];
  const ids = new Set<string>();
  for (const value of values) {
    workspaceIds(value, ids);
    const inline = (value as { secrets?: unknown } | null)?.secrets;
    if (inline !== null && typeof inline === "object") {
      for (const [name, secret] of Object.entries(inline)) {
        if (typeof secret === "string") secrets.push([name, Buffer.from(secret)]);
      }
    }
  }
  if (ids.size > 0) {
    const { maskableSecrets } = await import("../sandbox/workspace/secrets.js");
    for (const id of ids) secrets.push(...maskableSecrets(store, id));
  }
  return CompiledSecrets.of(secrets);
}

/** The same error with secret values masked in its message, hint and details. */
export function maskError(error: unknown, secrets: CompiledSecrets): unknown {
  if (secrets.automaton === null) return error;
  const pyroError = toPyroError(error);
  const [message, hint, details] = maskDeep([pyroError.message, pyroError.hint, pyroError.details], secrets);
  // The cause is left behind: its text may carry the value too.
  return new PyroError(pyroError.code, message, { hint, details });
}
