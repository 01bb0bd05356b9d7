import { spawn, type ChildProcess } from "node:child_process";
import { dirname } from "node:path";
import type { Socket } from "node:net";
import { PyroError } from "../../errors/index.js";
import { passtArgs, passtBinary } from "../network/passt.js";
import { socketPair } from "../../platform/socket-pair.js";
import type { LaunchSpec } from "../types.js";

export interface NetworkHelper {
  process: ChildProcess;
  /** The socket end QEMU inherits as its network backend. */
  vmEnd: Socket;
  diagnostics(): string;
}

const HELPER_FD = 3;

/**
 * Starts passt for one VM on one end of a socket pair; QEMU gets the other. No socket file is
 * left anywhere, so no other process can attach to the guest's network.
 */
export async function startNetworkHelper(spec: LaunchSpec): Promise<NetworkHelper> {
  const binary = passtBinary();
  if (spec.network === null || binary === null) {
    throw new PyroError("NETWORK_UNAVAILABLE", "passt is not installed", { hint: "apt-get install passt" });
  }
  const [helperEnd, vmEnd] = await socketPair(dirname(spec.files.agentSocket));
  const child = spawn(binary, passtArgs(spec.network, HELPER_FD), {
    stdio: ["ignore", "ignore", "pipe", helperEnd],
  });
  helperEnd.destroy();
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    if (stderr.length < 4096) stderr += chunk.toString("utf8");
  });
  child.once("error", (error) => (stderr += `passt: ${error.message}`));
  // passt also tries syslog, which a sandbox may lack; those complaints are noise.
  const diagnostics = (): string =>
    stderr
      .split("\n")
      .filter((line) => line.trim() !== "" && !line.includes("syslog"))
      .join("\n");
  return { process: child, vmEnd, diagnostics };
}
