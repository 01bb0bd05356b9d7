import { homedir } from "node:os";
import { join } from "node:path";
import { PyroError } from "../errors/index.js";

/**
 * The default root of pyro's state for an environment: PYRO_HOME, else $XDG_STATE_HOME/pyro-mcp,
 * else ~/.local/state/pyro-mcp. Read when a store is built, never at import time.
 */
export function defaultPyroHome(env: NodeJS.ProcessEnv): string {
  if (env.PYRO_HOME) return env.PYRO_HOME;
  const stateHome = env.XDG_STATE_HOME || join(homedir(), ".local", "state");
  return join(stateHome, "pyro-mcp");
}

// sockaddr_un holds 108 bytes including the terminating NUL.
const MAX_SOCKET_PATH = 107;

/** Unix socket paths are short by law; fail early with a fix rather than deep inside connect(). */
export function checkSocketPath(path: string): string {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
    throw new PyroError("PATH_TOO_LONG", `socket path is longer than ${MAX_SOCKET_PATH} bytes: ${path}`);
  }
  return path;
}
