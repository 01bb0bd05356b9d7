import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let cachedRoot: string | null = null;

/** The folder holding pyro-mcp's package.json, found from this module (works from src/ and dist/). */
export function packageRoot(): string {
  if (cachedRoot !== null) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json")) || !isPyroPackage(join(dir, "package.json"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error("pyro-mcp package.json not found");
    dir = parent;
  }
  cachedRoot = dir;
  return dir;
}

function isPyroPackage(path: string): boolean {
  return (JSON.parse(readFileSync(path, "utf8")) as { name?: string }).name === "pyro-mcp";
}

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { version: string };
  return pkg.version;
}
