import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { SandboxStore } from "../../src/sandbox/store.js";

/**
 * A private PYRO_HOME for one test file (short, so socket paths fit). The environment cache is
 * shared: guest tests boot the installed debian:12. `store()` is a store of this home, as a
 * surface would build it.
 */
export function useTempPyroHome(): { home: string; store(): SandboxStore; cleanup(): void } {
  const home = mkdtempSync(join("/tmp", "pyro-t-"));
  const previous = process.env.PYRO_HOME;
  process.env.PYRO_HOME = home;
  return {
    home,
    store: () => new SandboxStore({ home }),
    cleanup() {
      if (previous === undefined) delete process.env.PYRO_HOME;
      else process.env.PYRO_HOME = previous;
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** The folder of one sandbox (VM or workspace) under a pyro home. */
export const sandboxDir = (home: string, id: string): string => join(home, "sandboxes", id);
