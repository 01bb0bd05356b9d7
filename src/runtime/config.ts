import { readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { PyroError } from "../errors/index.js";
import { GuestNetwork } from "../machine/network/guest-network.js";
import type { LaunchSpec } from "../machine/types.js";

/** What a backend is told to launch, as it travels in supervisor.json (no console filter: that is in-process only). */
const StoredLaunchSpec = z.object({
  id: z.string(),
  vcpuCount: z.number().int().positive(),
  memMib: z.number().int().positive(),
  boot: z.object({ kernel: z.string(), initramfs: z.string(), rootfs: z.string() }).nullable(),
  agentBinary: z.string(),
  dir: z.string(),
  files: z.object({ agentSocket: z.string(), consoleLog: z.string() }),
  accel: z.enum(["kvm", "tcg", "none"]),
  network: GuestNetwork.nullable(),
  workspaceDisk: z.string().nullable(),
  ramFile: z.string().optional(),
  restore: z
    .discriminatedUnion("kind", [
      z.object({ kind: z.literal("template"), ramFile: z.string(), stateFile: z.string() }),
      z.object({ kind: z.literal("full"), stateFile: z.string() }),
    ])
    .optional(),
}) satisfies z.ZodType<LaunchSpec>;

/** What the manager hands a supervisor (supervisor.json in the VM folder). */
export const SupervisorConfig = z.object({
  id: z.string(),
  dir: z.string(),
  /** A backend name; the machine registry says whether it is one. */
  backend: z.string(),
  launch: StoredLaunchSpec,
  supervisorSocket: z.string(),
  bootTimeoutMs: z.number().int().nonnegative(),
  /** The expiry of a VM whose TTL is fixed (idleTtlMs null: one-shot `vm_*` sandboxes). */
  expiresAtMs: z.number(),
  /** A workspace's TTL counts from activity: every client frame moves the expiry to now + this. */
  idleTtlMs: z.number().int().positive().nullable().default(null),
  /** What an expiry does: stop the VM, or pause it (its memory saved) when the driver can. */
  onExpire: z.enum(["stop", "pause"]).default("stop"),
  /** One-shot VM: torn down (folder included) once its owner process is gone. */
  ephemeral: z.boolean(),
  ownerPid: z.number().int().nullable(),
  /** A workspace's secret store: its values are masked in the stored console log. */
  consoleMaskDir: z.string().nullable(),
  /** Who the guest is: set after every boot and restore, so no two VMs restored from one memory image share it. */
  identity: z.object({ hostname: z.string(), machineId: z.string().nullable() }),
  /** The guest device the agent mounts on /workspace (the workspace disk), or null. */
  workspaceDevice: z.string().nullable(),
  /** Shells, services and ports a paused supervisor saved, to serve again after a resume. */
  supervisorState: z.string().nullable(),
  /** Where a pause saves the VM; null for a VM that cannot be paused (one-shot). */
  pauseDir: z.string().nullable(),
});
export type SupervisorConfig = z.infer<typeof SupervisorConfig>;

/** The one line a supervisor writes on fd 3 once the guest answered (or failed to). */
export const ReadyReport = z.discriminatedUnion("ok", [
  z.object({
    ok: z.literal(true),
    vmm_pid: z.number().int(),
    kernel_release: z.string(),
    agent_version: z.string(),
    mode: z.enum(["guest", "host"]),
    /** Where the start's time went, in ms: launch, agent (connect, and restore), hello, identify, total. */
    timings: z.record(z.string(), z.number()),
  }),
  z.object({
    ok: z.literal(false),
    code: z.string(),
    message: z.string(),
    details: z.record(z.string(), z.unknown()),
  }),
]);
export type ReadyReport = z.infer<typeof ReadyReport>;

export const configPath = (dir: string): string => join(dir, "supervisor.json");

export function readSupervisorConfig(dir: string): SupervisorConfig {
  const path = configPath(dir);
  const parsed = SupervisorConfig.safeParse(JSON.parse(readFileSync(path, "utf8")));
  if (!parsed.success) throw new PyroError("STATE_CORRUPT", `${path} is not a supervisor configuration`);
  return parsed.data;
}
