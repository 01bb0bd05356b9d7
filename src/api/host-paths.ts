import { lstatSync, realpathSync, statSync } from "node:fs";
import { basename, dirname, join, resolve, sep } from "node:path";
import { PyroError } from "../errors/index.js";

/** How an operation uses a host path parameter: reads what is there, or creates or replaces it. */
export type HostPathAccess = "read" | "write";

/**
 * The host folders a surface may read or write for its caller. The MCP server has one (its caller
 * may be steered by text a guest produced); the CLI and the SDK have none (their caller is the user).
 */
export interface HostPathPolicy {
  /** Real paths (symlinks resolved) of the allowed folders. */
  readonly roots: readonly string[];
}

/** A policy allowing `folders` (each must exist) and everything below them. */
export function hostPathPolicy(folders: readonly string[]): HostPathPolicy {
  const roots = folders.map((folder) => {
    try {
      const root = realpathSync(resolve(folder));
      if (!statSync(root).isDirectory()) throw new Error("not a directory");
      return root;
    } catch (error) {
      throw new PyroError(
        "INVALID_ARGUMENT",
        `cannot allow host folder ${folder}: ${(error as Error).message}`,
        {
          hint: "Pass an existing directory to --allow-host-path.",
        },
      );
    }
  });
  return { roots: [...new Set(roots)] };
}

/**
 * The real location `path` names: every symlink resolved. A path that does not exist yet (an
 * output) is its nearest existing parent resolved, then the rest. A dangling symlink has no
 * location that can be checked, so it is refused.
 */
function realLocation(path: string, parameter: string): string {
  const rest: string[] = [];
  let current = resolve(path);
  for (;;) {
    try {
      return join(realpathSync(current), ...rest);
    } catch {
      if (isSymlink(current)) {
        throw new PyroError(
          "HOST_PATH_DENIED",
          `${parameter} ${path} goes through a dangling symlink (${current})`,
        );
      }
      const parent = dirname(current);
      if (parent === current) return join(current, ...rest);
      rest.unshift(basename(current));
      current = parent;
    }
  }
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

const inside = (location: string, root: string): boolean =>
  location === root || location.startsWith(root.endsWith(sep) ? root : `${root}${sep}`);

/**
 * Checks one host path parameter against the policy; returns its real location, which is what the
 * operation must use (so a symlink swapped in after the check cannot redirect it).
 */
export function confineHostPath(
  policy: HostPathPolicy,
  path: string,
  parameter: string,
  access: HostPathAccess,
): string {
  const location = realLocation(path, parameter);
  if (policy.roots.some((root) => inside(location, root))) return location;
  throw new PyroError(
    "HOST_PATH_DENIED",
    `${parameter} ${path} resolves to ${location}; this MCP server may ${access} only under ${policy.roots.join(", ")}`,
    {
      hint: `Use a path under ${policy.roots.join(" or ")}, or restart the server with \`pyro mcp serve --allow-host-path DIR\` to allow another folder.`,
    },
  );
}

/**
 * Applies the policy to every host path parameter an operation declares: a string, or each value of
 * a record of strings (secret files); absent values are left alone. Returns the input with each path
 * replaced by its checked real location.
 */
export function confineHostPaths<Input extends Record<string, unknown>>(
  policy: HostPathPolicy,
  input: Input,
  parameters: Readonly<Record<string, HostPathAccess>>,
): Input {
  const confined: Record<string, unknown> = { ...input };
  for (const [parameter, access] of Object.entries(parameters)) {
    const value = input[parameter];
    if (typeof value === "string") {
      confined[parameter] = confineHostPath(policy, value, parameter, access);
    } else if (value !== null && typeof value === "object") {
      confined[parameter] = Object.fromEntries(
        Object.entries(value as Record<string, unknown>).map(([key, path]) => [
          key,
          typeof path === "string" ? confineHostPath(policy, path, `${parameter}.${key}`, access) : path,
        ]),
      );
    }
  }
  return confined as Input;
}
