import { spawn } from "node:child_process";
import { PyroError } from "../../errors/index.js";
import { socketPair } from "../../platform/socket-pair.js";
import type { FdAttachment } from "../types.js";
import type { GuestNetwork } from "./guest-network.js";
import { netstackArgs, netstackBinary } from "./netstack.js";
import { nativePartFix, nativePartMissing } from "../../platform/install-kind.js";

const HELPER_FD = 3;
const LOG_CAP = 64 * 1024;

/**
 * Starts pyro-netstack for one VM on one end of a socket pair; the VMM gets the other. No socket
 * file is left anywhere, so no other process can attach to the guest's network.
 */
export async function attachByFd(plan: GuestNetwork, socketDir: string): Promise<FdAttachment> {
  const binary = netstackBinary();
  if (binary === null) {
    throw new PyroError("NETWORK_UNAVAILABLE", nativePartMissing("netstack"), {
      hint: nativePartFix("netstack"),
    });
  }
  const [helperEnd, vmEnd] = await socketPair(socketDir);
  const child = spawn(binary, netstackArgs(plan, HELPER_FD), {
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
