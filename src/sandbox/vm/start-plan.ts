import type { LaunchSpec } from "../../machine/types.js";
import type { StartMode } from "../record.js";
import type { SandboxStore } from "../store.js";
import { machineDir } from "./liveness.js";
import type { VmRecord } from "./record.js";
import { placeholderDisk, templateOf } from "./template-disks.js";

/** A saved VM to resume: its VMM state stream and the supervisor's shells, services and ports. */
export interface SavedState {
  vmmState: string;
  supervisorState: string;
}

export interface StartPlan {
  mode: StartMode;
  coldReason: string | null;
  restore: LaunchSpec["restore"] | null;
  workspaceDisk: string | null;
}

/**
 * How this start brings the VM up: from a saved state when one is given; from its memory template
 * when its disk is still the template's untouched overlay (a first start); otherwise a cold boot,
 * with the reason recorded.
 */
export function planStart(
  store: SandboxStore,
  record: VmRecord,
  options: { workspaceDisk?: string; savedState?: SavedState },
): StartPlan {
  const workspaceDisk =
    options.workspaceDisk ??
    (record.template !== null && record.workspace === null
      ? placeholderDisk(machineDir(store, record.id))
      : null);
  if (options.savedState !== undefined)
    return {
      mode: "saved_state",
      coldReason: null,
      restore: { kind: "full", stateFile: options.savedState.vmmState },
      workspaceDisk,
    };
  if (record.template !== null && record.state === "created") {
    const files = templateOf(store, record.template);
    return {
      mode: "template",
      coldReason: null,
      restore: { kind: "template", ramFile: files.ram, stateFile: files.state },
      workspaceDisk,
    };
  }
  const coldReason =
    record.template_skipped ??
    (record.template === null
      ? null
      : "its disk has been used since the template restore, so a restart boots");
  return { mode: "cold", coldReason, restore: null, workspaceDisk };
}
