import { existsSync, mkdtempSync, readdirSync, symlinkSync } from "node:fs";
import { delimiter, join } from "node:path";

/**
 * A PATH that reaches every program of the current one but `excluded`: a temporary folder of
 * symlinks (the first of each name wins, as a PATH lookup would). Returns the folder; the caller
 * removes it.
 */
export function pathWithout(excluded: string[], path = process.env.PATH ?? ""): string {
  const dir = mkdtempSync("/tmp/pyro-path-");
  const seen = new Set<string>(excluded);
  for (const source of path.split(delimiter).filter(Boolean)) {
    if (!existsSync(source)) continue;
    for (const name of readdirSync(source)) {
      if (seen.has(name)) continue;
      seen.add(name);
      symlinkSync(join(source, name), join(dir, name));
    }
  }
  return dir;
}
