import { readFileSync } from "node:fs";
import { join } from "node:path";

export { describeExit, readVmExit as vmExitOf } from "../../runtime/exit-note.js";

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
