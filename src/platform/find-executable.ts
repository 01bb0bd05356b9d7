import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { PyroError } from "../errors/index.js";

/** sbin directories are searched too: a non-root PATH often lacks them. */
const EXTRA_DIRS = ["/usr/local/sbin", "/usr/sbin", "/sbin"];

/** Looks a program up like `command -v` (a name with a slash is checked as is); null when absent. */
export function findExecutable(name: string, env: NodeJS.ProcessEnv = process.env): string | null {
  if (name.includes("/")) return isExecutable(name) ? name : null;
  const dirs = [...(env.PATH ?? "").split(delimiter).filter(Boolean), ...EXTRA_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

/** findExecutable, or DEPENDENCY_MISSING naming the Debian package that brings it. */
export function requireExecutable(name: string, aptPackage: string): string {
  const path = findExecutable(name);
  if (path === null)
    throw new PyroError("DEPENDENCY_MISSING", `${name} is not installed`, {
      hint: `apt-get install ${aptPackage}`,
    });
  return path;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
