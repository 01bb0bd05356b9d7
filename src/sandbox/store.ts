import { homedir } from "node:os";
import { join } from "node:path";

/** What a caller may choose for one store (`new Pyro({ home })`); the rest comes from the environment. */
export interface StoreOptions {
  /** Root of pyro's state; default PYRO_HOME, else $XDG_STATE_HOME/pyro-mcp, else ~/.local/state/pyro-mcp. */
  home?: string;
}

/**
 * Every sandbox of one pyro home: records, locks and reaping. Built once per surface (the CLI
 * process, an MCP server, each `new Pyro()`), so two stores with different homes never interfere.
 */
export class SandboxStore {
  readonly home: string;

  constructor(options: StoreOptions = {}, env: NodeJS.ProcessEnv = process.env) {
    this.home =
      options.home ??
      env.PYRO_HOME ??
      join(env.XDG_STATE_HOME || join(homedir(), ".local", "state"), "pyro-mcp");
  }
}
