import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";

/**
 * A private PYRO_HOME for one test file (short, so socket paths fit). The environment cache is
 * shared: guest tests boot the installed debian:12.
 */
export function useTempPyroHome(): { home: string; cleanup(): void } {
  const home = mkdtempSync(join("/tmp", "pyro-t-"));
  const previous = process.env.PYRO_HOME;
  process.env.PYRO_HOME = home;
  return {
    home,
    cleanup() {
      if (previous === undefined) delete process.env.PYRO_HOME;
      else process.env.PYRO_HOME = previous;
      rmSync(home, { recursive: true, force: true });
    },
  };
}
