import { spawn, type ChildProcess } from "node:child_process";
import { dirname } from "node:path";
import type { Socket } from "node:net";
import { PyroError } from "../../errors/index.js";
import { netstackArgs, netstackBinary } from "../network/netstack.js";
import { socketPair } from "../../platform/socket-pair.js";
import type { LaunchSpec } from "../types.js";

export interface NetworkHelper {
  process: ChildProcess;
  /** The socket end QEMU inherits as its network backend. */
  vmEnd: Socket;
  diagnostics(): string;
}

const HELPER_FD = 3;
const LOG_CAP = 64 * 1024;

/**
 * Starts pyro-netstack for one VM on one end of a socket pair; QEMU gets the other. No socket file is
 * left anywhere, so no other process can attach to the guest's network.
 */
export async function startNetworkHelper(spec: LaunchSpec): Promise<NetworkHelper> {
  const binary = netstackBinary();
  if (spec.network === null || binary === null) {
    throw new PyroError("NETWORK_UNAVAILABLE", "pyro-netstack is not built", {
      hint: "Run `npm run build` (needs libslirp-dev).",
    });
  }
  const [helperEnd, vmEnd] = await socketPair(dirname(spec.files.agentSocket));
  const child = spawn(binary, netstackArgs(spec.network, HELPER_FD), {
    stdio: ["ignore", "ignore", "pipe", helperEnd],
  });
  helperEnd.destroy();
  let stderr = "";
  let logged = 0;
  child.stderr?.on("data", (chunk: Buffer) => {
    if (stderr.length < 4096) stderr += chunk.toString("utf8");
    // Its refusal counts go to the supervisor's log, bounded however long the VM lives.
    if (logged < LOG_CAP) process.stderr.write(chunk.subarray(0, LOG_CAP - logged));
    logged += chunk.length;
  });
  child.once("error", (error) => (stderr += `pyro-netstack: ${error.message}`));
  return { process: child, vmEnd, diagnostics: () => stderr.trim() };
}
