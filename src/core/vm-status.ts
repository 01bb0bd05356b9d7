import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { exitPath, type VmExit } from "./supervisor/config.js";

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

/** The last lines of a VM's serial console, for error messages. */
export function consoleTail(dir: string, lines = 15): string {
  try {
    const text = readFileSync(join(dir, "console.log"), "utf8");
    return text.trimEnd().split("\n").slice(-lines).join("\n").slice(-4000);
  } catch {
    return "";
  }
}
