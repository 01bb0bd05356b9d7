import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, symlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const CHECKOUT = fileURLToPath(new URL("../..", import.meta.url));

/**
 * The environment an installed user's commands see: nothing that points into this checkout (no
 * PYRO_*_BIN override, no npm lifecycle variables of the test runner) and an empty LD_LIBRARY_PATH,
 * so the packaged pyro-netstack has only its own bundle and the system's libraries.
 */
export function userEnv(extra: Record<string, string>): Record<string, string> {
  const kept = Object.entries(process.env).filter(
    (entry): entry is [string, string] =>
      entry[1] !== undefined && !/^(npm_|PYRO_\w*_BIN$|VITEST|NODE_OPTIONS$)/i.test(entry[0]),
  );
  return { ...Object.fromEntries(kept), LD_LIBRARY_PATH: "", ...extra };
}

/**
 * `npm pack` (its prepack builds everything from clean) run in a copy of this checkout's files, so
 * the checkout's own build is never touched by the clean build, then `npm install <tarball>` into
 * the empty folder `app` under `work`. Returns the tarball and the installed package's folder.
 */
export async function packAndInstall(
  work: string,
): Promise<{ tarball: string; app: string; installed: string }> {
  const source = join(work, "source");
  const { stdout } = await run("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: CHECKOUT,
    maxBuffer: 16 * 1024 * 1024,
  });
  for (const file of stdout.split("\0")) {
    // The worktree's node_modules is a symlink that `node_modules/` in .gitignore does not match.
    if (file === "" || file === "node_modules" || !existsSync(join(CHECKOUT, file))) continue;
    mkdirSync(dirname(join(source, file)), { recursive: true });
    cpSync(join(CHECKOUT, file), join(source, file), { verbatimSymlinks: true });
  }
  // The build's tools (tsc) come from the checkout's dependencies; nothing is installed here.
  symlinkSync(join(CHECKOUT, "node_modules"), join(source, "node_modules"));
  const packs = join(work, "packs");
  mkdirSync(packs);
  const npmEnv = userEnv({});
  await run("npm", ["pack", "--pack-destination", packs], {
    cwd: source,
    env: npmEnv,
    maxBuffer: 64 * 1024 * 1024,
  });
  const [name] = readdirSync(packs).filter((file) => file.endsWith(".tgz"));
  if (name === undefined) throw new Error(`npm pack left no tarball in ${packs}`);
  const tarball = join(packs, name);
  const app = join(work, "app");
  mkdirSync(app);
  await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error", tarball], {
    cwd: app,
    env: npmEnv,
    maxBuffer: 16 * 1024 * 1024,
  });
  return { tarball, app, installed: join(app, "node_modules", "pyro-mcp") };
}
