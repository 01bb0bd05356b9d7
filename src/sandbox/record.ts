import { z } from "zod";
import { imageRunSchema } from "../environments/manifest-schema.js";
import { GuestNetwork } from "../machine/network/guest-network.js";
import type { GuestImage } from "./guest-env.js";
import { NETWORK_POLICIES } from "./network/policy.js";
import { BackendName, ExecutionMode, VmState } from "./vm/record.js";

import { SANDBOX_RECORD_SCHEMA } from "./record-parse.js";

export { isSandboxId, parseSandboxRecord, SANDBOX_RECORD_SCHEMA } from "./record-parse.js";

export const SeedMode = z.enum(["empty", "directory", "archive", "file"]);

/** What only a workspace has: its name and labels, its activity, and how /workspace was seeded. */
export const WorkspaceFacet = z.object({
  name: z.string().nullable(),
  labels: z.record(z.string(), z.string()),
  last_activity_at: z.string(),
  reset_count: z.number().int(),
  /** Sequence number of the last command; the next exec gets this plus one. */
  command_count: z.number().int(),
  seed: z.object({
    mode: SeedMode,
    source: z.string().nullable(),
    entry_count: z.number().int(),
    bytes: z.number().int(),
  }),
});
export type WorkspaceFacet = z.infer<typeof WorkspaceFacet>;

export const StartMode = z.enum(["template", "cold", "saved_state"]);
export type StartMode = z.infer<typeof StartMode>;

/** How a start went: its mode, why a template was not used, and where the time went (ms). */
export const StartInfo = z.object({
  mode: StartMode,
  cold_reason: z.string().nullable(),
  at: z.string(),
  timings: z.record(z.string(), z.number()),
});
export type StartInfo = z.infer<typeof StartInfo>;

/** The container image's Env, WorkingDir and User that commands run with (guest-env.ts: GuestImage). */
export const SandboxImage = imageRunSchema satisfies z.ZodType<GuestImage>;

/** What pyro persists about one sandbox (sandbox.json in its folder): a VM, and a workspace when it is one. */
export const SandboxRecord = z.object({
  schema: z.literal(SANDBOX_RECORD_SCHEMA),
  id: z.string(),
  environment: z.string(),
  /** The backend chosen at create time; a workspace's reset recreates the VM with the same one. */
  backend: BackendName,
  accel: z.enum(["kvm", "tcg", "none"]),
  execution_mode: ExecutionMode,
  vcpu_count: z.number().int(),
  mem_mib: z.number().int(),
  ttl_seconds: z.number().int(),
  /** Any policy but off gives the guest a network device (policy.ts: allowsEgress). */
  network_policy: z.enum(NETWORK_POLICIES),
  /** Egress may reach private ranges too (the frame filter refuses them otherwise). */
  allow_private_egress: z.boolean(),
  allow_host_compat: z.boolean(),
  /** How the current (or last) boot wired the guest's network; null without one. */
  network_plan: GuestNetwork.nullable(),
  /** One-shot VMs (run, exec) are torn down when their owner process goes away. */
  ephemeral: z.boolean(),
  owner_pid: z.number().int().nullable(),
  state: VmState,
  created_at: z.string(),
  started_at: z.string().nullable(),
  expires_at: z.string(),
  /** Boot artifacts resolved when the VM was made (null for the host backend). */
  boot: z.object({ kernel: z.string(), initramfs: z.string(), rootfs: z.string() }).nullable(),
  /** The environment's image config, or null (a built environment, or the host backend); records
   *  written before it existed read as null. */
  image: SandboxImage.nullable().default(null),
  /** The memory template the root disk is layered over (its saved disk), or null for a disk over the environment's image. */
  template: z.string().nullable().default(null),
  /** Why the root disk is not over a template (the VM boots cold), or null. */
  template_skipped: z.string().nullable().default(null),
  /** The guest's /etc/machine-id (32 hex digits), kept across restarts, pauses and resets. */
  machine_id: z
    .string()
    .regex(/^[0-9a-f]{32}$/)
    .nullable()
    .default(null),
  /** How the VM last started: restored from its template, booted cold (with why), or resumed from a saved state. */
  start: StartInfo.nullable().default(null),
  supervisor_pid: z.number().int().nullable(),
  vmm_pid: z.number().int().nullable(),
  guest: z.object({ kernel_release: z.string(), agent_version: z.string() }).nullable(),
  last_error: z.object({ code: z.string(), message: z.string() }).nullable(),
  workspace: WorkspaceFacet.nullable(),
});
export type SandboxRecord = z.infer<typeof SandboxRecord>;
