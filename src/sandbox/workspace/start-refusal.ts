import type { SandboxStore } from "../store.js";
import { PyroError } from "../../errors/index.js";
import type { ManagedInfo } from "../../runtime/managed.js";
import { supervisorControl } from "../supervisor-client.js";

/**
 * A shell or service the agent refused to start (an ERROR before STARTED) is an error of the
 * start, not a process that ran and exited: it is forgotten by the supervisor and reported with
 * its own code — a missing cwd is CWD_NOT_FOUND, like `workspace exec`.
 */
export async function throwIfRefused(store: SandboxStore, vmId: string, info: ManagedInfo): Promise<void> {
  if (info.state !== "exited" || info.pid !== null || info.error === null) return;
  await supervisorControl(store, vmId).remove({ kind: info.kind, id: info.id });
  const [code = "", ...rest] = info.error.split(": ");
  const message = rest.join(": ") || info.error;
  if (code === "CWD_NOT_FOUND") {
    throw new PyroError("CWD_NOT_FOUND", `${info.kind} ${info.name}: ${message}`, {
      hint: `Pass a cwd that is a directory inside /workspace (see \`pyro workspace file list ${vmId}\`).`,
    });
  }
  throw new PyroError("EXEC_FAILED", `${info.kind} ${info.name} could not start: ${info.error}`);
}
