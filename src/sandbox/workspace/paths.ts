import { posix } from "node:path";
import { PyroError } from "../../errors/index.js";
import { GUEST_WORKDIR } from "../guest-env.js";

/** Longest path accepted from a caller (Linux PATH_MAX). */
export const MAX_PATH_LENGTH = 4096;

/**
 * Turns a caller's path (relative to /workspace, or absolute inside it) into its normalised
 * relative form ("." for the root). Purely lexical: symlinks inside the guest are checked there.
 */
export function resolveWorkspacePath(input: string): string {
  if (input.length === 0) throw new PyroError("INVALID_ARGUMENT", "the path is empty");
  if (input.includes("\0")) throw new PyroError("INVALID_ARGUMENT", "the path contains a NUL byte");
  if (input.length > MAX_PATH_LENGTH) {
    throw new PyroError("INVALID_ARGUMENT", `the path is longer than ${MAX_PATH_LENGTH} characters`);
  }
  const absolute = posix.resolve(GUEST_WORKDIR, input);
  if (absolute === GUEST_WORKDIR) return ".";
  if (!absolute.startsWith(`${GUEST_WORKDIR}/`)) {
    throw new PyroError("PATH_OUTSIDE_WORKSPACE", `${JSON.stringify(input)} is outside ${GUEST_WORKDIR}`, {
      details: { path: input },
    });
  }
  return absolute.slice(GUEST_WORKDIR.length + 1);
}

/** The absolute guest form of a relative workspace path, for messages and results. */
export function workspaceAbsolutePath(relative: string): string {
  return relative === "." ? GUEST_WORKDIR : `${GUEST_WORKDIR}/${relative}`;
}
