import { PyroError } from "../../errors/index.js";
import { silentPhases, type PhaseReporter } from "../../platform/phases.js";
import { listTemplates, type TemplateInfo } from "../templates/list.js";
import type { SandboxStore } from "../store.js";
import { chooseMachine } from "./manager.js";

export interface WarmOptions {
  environment: string;
  vcpuCount: number;
  memMib: number;
  /** The template for guests with a network device (any policy but off), or without one. */
  network: boolean;
  onPhase?: PhaseReporter;
}

/**
 * Makes (or finds) the memory template that sandboxes of this environment and shape restore
 * from, so the first of them does not pay for it. TEMPLATE_UNAVAILABLE, naming why, when this host
 * cannot have one; sandboxes then still start, cold.
 */
export async function warmTemplate(store: SandboxStore, options: WarmOptions): Promise<TemplateInfo> {
  const choice = await chooseMachine(store, {
    environment: options.environment,
    vcpuCount: options.vcpuCount,
    memMib: options.memMib,
    ttlSeconds: 0,
    networkPolicy: options.network ? "egress" : "off",
    allowHostCompat: false,
    onPhase: options.onPhase ?? silentPhases,
  });
  const made = listTemplates(store.home, options.environment).find((t) => t.name === choice.template);
  if (made === undefined)
    throw new PyroError(
      "TEMPLATE_UNAVAILABLE",
      `no memory template for ${options.environment}: ${choice.template_skipped ?? "it could not be made"}`,
    );
  return made;
}
