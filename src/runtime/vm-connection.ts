import { AgentClient } from "../agent-protocol/client.js";
import { connectOnce } from "../machine/connect-unix.js";
import { PyroError } from "../errors/index.js";
import { vmFiles } from "../sandbox/vm-record.js";
import { describeExit, vmExitOf } from "../sandbox/vm-status.js";

/** Where a VM's supervisor is reached: the VM's folder, and its record for messages. */
export interface SupervisorTarget {
  dir: string;
  record: { id: string; state: string; expires_at: string };
}

/** Opens a protocol session with a running VM's supervisor (many may be open at once). */
export async function connectSupervisor(target: SupervisorTarget, client: string): Promise<AgentClient> {
  const { dir, record } = target;
  let socket;
  try {
    socket = await connectOnce(vmFiles(dir).supervisorSocket);
  } catch (error) {
    const exit = vmExitOf(dir);
    if (exit?.reason === "ttl_expired") {
      throw new PyroError("VM_EXPIRED", `VM ${record.id} expired at ${record.expires_at}`, { cause: error });
    }
    const why = exit === null ? `state ${record.state}` : describeExit(exit);
    throw new PyroError("VM_NOT_RUNNING", `VM ${record.id} is not running (${why})`, { cause: error });
  }
  return AgentClient.connect(socket, { client, timeoutMs: 10_000 });
}
