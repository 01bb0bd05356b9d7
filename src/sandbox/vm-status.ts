import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { exitPath, type VmExit } from "../runtime/config.js";

export function vmExitOf(dir: string): VmExit | null {
  const path = exitPath(dir);
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, "utf8")) as VmExit;
  } catch {
    return null;
  }
}

export function describeExit(exit: VmExit): string {
  return `${exit.reason.replace(/_/g, " ")} at ${exit.at}: ${exit.detail}`;
}

// C0 and C1 controls but tab and newline: what a terminal would act on.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const TERMINAL_CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * The last lines of a VM's serial console, for error messages. The guest wrote them, so control
 * characters become "?": an error message must not drive the user's terminal.
 */
export function consoleTail(dir: string, lines = 15): string {
  try {
    const text = readFileSync(join(dir, "console.log"), "utf8");
    const tail = text.trimEnd().split("\n").slice(-lines).join("\n").slice(-4000);
    return tail.replace(TERMINAL_CONTROLS, "?");
  } catch {
    return "";
  }
}
