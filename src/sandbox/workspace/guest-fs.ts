import { FileOps } from "../../agent-protocol/file-ops.js";
import { connectSupervisor } from "../../runtime/vm-connection.js";
import { loadVm } from "../vm-manager.js";

/** Runs `use` with the agent's file operations of a VM's guest, over one supervisor session. */
export async function withGuestFiles<T>(id: string, use: (files: FileOps) => Promise<T>): Promise<T> {
  const client = await connectSupervisor(loadVm(id), "pyro-files");
  try {
    return await use(new FileOps(client));
  } finally {
    client.close();
  }
}
