import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { checkJson } from "../platform/json-check.js";
import type { VmExit } from "./exit-note-schema.js";
import { VM_EXIT_JSON_SCHEMA } from "./exit-note.json-schema.js";

export type { VmExit };

export const exitPath = (dir: string): string => join(dir, "exit.json");

/** The exit note of the VM in `dir`, or null while it runs (or when the note is unreadable). */
export function readVmExit(dir: string): VmExit | null {
  const path = exitPath(dir);
  if (!existsSync(path)) return null;
  try {
    // Checked without zod (exit-note.json-schema.ts is zod's rendering of VmExit): status reads it.
    const parsed = checkJson(VM_EXIT_JSON_SCHEMA, JSON.parse(readFileSync(path, "utf8")));
    return parsed.ok ? parsed.value : null;
  } catch {
    return null;
  }
}

export function describeExit(exit: VmExit): string {
  return `${exit.reason.replace(/_/g, " ")} at ${exit.at}: ${exit.detail}`;
}
