import type { SandboxStore } from "../store.js";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../../platform/atomic-file.js";
import { workspaceFiles } from "./record.js";

/**
 * Which services passed their readiness check. The supervisor knows only processes, so the host
 * keeps one small file per service name holding the start time of the run that became ready; a
 * later run under the same name has another start time and is not taken for ready.
 */
function markerPath(store: SandboxStore, id: string, name: string): string {
  // Service names are checked against SERVICE_NAME before they get here: no "/" and no "..".
  return join(workspaceFiles(store, id).serviceReady, name);
}

export function markServiceReady(store: SandboxStore, id: string, name: string, startedAt: string): void {
  mkdirSync(workspaceFiles(store, id).serviceReady, { recursive: true, mode: 0o700 });
  writeFileAtomic(markerPath(store, id, name), startedAt);
}

/** True when this run of the service became ready, null when that is not known (no check, or not yet). */
export function serviceReady(store: SandboxStore, id: string, name: string, startedAt: string): true | null {
  try {
    return readFileSync(markerPath(store, id, name), "utf8") === startedAt ? true : null;
  } catch {
    return null;
  }
}
