import { constants } from "node:os";
import { PyroError } from "../../errors/index.js";

const ALLOWED = ["INT", "TERM", "KILL", "HUP", "QUIT", "USR1", "USR2", "CONT", "STOP", "WINCH"];

/** "INT" or "SIGINT" → its number; only signals that make sense to send to a shell or service. */
export function signalNumber(name: string): number {
  const short = name.toUpperCase().replace(/^SIG/, "");
  const signo = (constants.signals as Record<string, number>)[`SIG${short}`];
  if (!ALLOWED.includes(short) || signo === undefined) {
    throw new PyroError("INVALID_ARGUMENT", `unsupported signal "${name}"`, {
      hint: `Use one of: ${ALLOWED.join(", ")}.`,
    });
  }
  return signo;
}
