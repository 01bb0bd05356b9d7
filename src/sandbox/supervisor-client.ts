import type { AgentClient } from "../agent-protocol/client.js";
import { ControlClient } from "../runtime/control-client.js";
import { connectSupervisor as connectTarget } from "../runtime/vm-connection.js";
import type { SandboxStore } from "./store.js";
import { loadVm, machineDir } from "./vm/liveness.js";
import { vmFiles, type VmRecord } from "./vm/record.js";

/** Opens a protocol session with a running VM's supervisor (many may be open at once). */
export function connectSupervisor(
  store: SandboxStore,
  record: VmRecord,
  client: string,
): Promise<AgentClient> {
  const dir = machineDir(store, record.id);
  return connectTarget(
    {
      id: record.id,
      dir,
      socket: vmFiles(dir).supervisorSocket,
      state: record.state,
      expiresAt: record.expires_at,
    },
    client,
  );
}

/**
 * The control channel (shells, services, published ports) of a VM's supervisor. The record is read
 * at the first request and kept for the client's later ones (a service stop sends four).
 */
export function supervisorControl(store: SandboxStore, vmId: string): ControlClient {
  let record: VmRecord | undefined;
  return new ControlClient(() => connectSupervisor(store, (record ??= loadVm(store, vmId)), "pyro-control"));
}
