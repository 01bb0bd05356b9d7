import { findExecutable } from "../platform/find-executable.js";
import { PyroError } from "../errors/index.js";

/** Host tools a local build runs, and the Debian package that provides each. */
const BUILD_TOOLS = {
  mmdebstrap: "mmdebstrap",
  "mkfs.ext4": "e2fsprogs",
  lz4: "lz4",
  depmod: "kmod",
  modprobe: "kmod",
  "dpkg-deb": "dpkg",
} as const;

export type BuildTool = keyof typeof BUILD_TOOLS;
export type BuildToolPaths = Record<BuildTool, string>;

/** Absolute paths of every build tool, or one DEPENDENCY_MISSING naming all the missing packages. */
export function requireBuildTools(env: NodeJS.ProcessEnv = process.env): BuildToolPaths {
  const found: Partial<BuildToolPaths> = {};
  const missing: BuildTool[] = [];
  for (const tool of Object.keys(BUILD_TOOLS) as BuildTool[]) {
    const path = findExecutable(tool, env);
    if (path !== null) found[tool] = path;
    else missing.push(tool);
  }
  if (missing.length === 0) return found as BuildToolPaths;
  const packages = [...new Set(missing.map((tool) => BUILD_TOOLS[tool]))];
  throw new PyroError(
    "DEPENDENCY_MISSING",
    `Building an environment needs ${missing.join(", ")}, not found.`,
    {
      hint: `Install them: apt-get install -y --no-install-recommends ${packages.join(" ")}`,
      details: { missing, packages },
    },
  );
}

/** mmdebstrap must run as real root here: only then does the directory tree get true ownership. */
export function requireRoot(): void {
  if (process.getuid?.() === 0) return;
  throw new PyroError(
    "ROOT_REQUIRED",
    "Building an environment locally needs root (mmdebstrap creates root-owned files).",
    {
      hint: "Run `sudo pyro env build NAME`, or use `pyro env pull NAME` to fetch a prebuilt one.",
    },
  );
}
