import { FileOps } from "../../agent-protocol/file-ops.js";
import type { SandboxStore } from "../store.js";
import { connectSupervisor } from "../supervisor-client.js";
import { loadVm } from "../vm/manager.js";

/** Runs `use` with the agent's file operations of a VM's guest, over one supervisor session. */
export async function withGuestFiles<T>(
  store: SandboxStore,
  id: string,
  use: (files: FileOps) => Promise<T>,
): Promise<T> {
  const client = await connectSupervisor(store, loadVm(store, id), "pyro-files");
  try {
    return await use(new FileOps(client));
  } finally {
    client.close();
  }
}
