import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { PyroError } from "../errors/index.js";

/** Root of pyro's state: PYRO_HOME, else $XDG_STATE_HOME/pyro-mcp, else ~/.local/state/pyro-mcp. */
export function pyroHome(): string {
  if (process.env.PYRO_HOME) return process.env.PYRO_HOME;
  const stateHome = process.env.XDG_STATE_HOME || join(homedir(), ".local", "state");
  return join(stateHome, "pyro-mcp");
}

export function vmsDir(): string {
  return join(pyroHome(), "vms");
}

export function workspacesDir(): string {
  return join(pyroHome(), "workspaces");
}

export function workspaceDir(id: string): string {
  return join(workspacesDir(), id);
}

/** A workspace keeps its VM inside its own folder; a plain VM lives under vms/. */
export function vmDir(id: string): string {
  const inWorkspace = join(workspaceDir(id), "vm");
  return existsSync(inWorkspace) ? inWorkspace : join(vmsDir(), id);
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
