import { AgentClient } from "../agent-protocol/client.js";
import { connectOnce } from "../machine/connect-unix.js";
import { PyroError } from "../errors/index.js";
import { describeExit, readVmExit } from "./exit-note.js";

/** Where a running VM's supervisor listens, and what to say when it does not answer. */
export interface SupervisorTarget {
  /** The VM's id, for messages. */
  id: string;
  /** The VM's folder, where an ended supervisor left its exit note. */
  dir: string;
  /** The supervisor's Unix socket. */
  socket: string;
  /** The VM's recorded state and expiry, for messages. */
  state: string;
  expiresAt: string;
}

/** Opens a protocol session with a running VM's supervisor (many may be open at once). */
export async function connectSupervisor(target: SupervisorTarget, client: string): Promise<AgentClient> {
  let socket;
  try {
    socket = await connectOnce(target.socket);
  } catch (error) {
    const exit = readVmExit(target.dir);
    if (exit?.reason === "ttl_expired") {
      throw new PyroError("VM_EXPIRED", `VM ${target.id} expired at ${target.expiresAt}`, { cause: error });
    }
    const why = exit === null ? `state ${target.state}` : describeExit(exit);
    throw new PyroError("VM_NOT_RUNNING", `VM ${target.id} is not running (${why})`, { cause: error });
  }
  return AgentClient.connect(socket, { client, timeoutMs: 10_000 });
}
