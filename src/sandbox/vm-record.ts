import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { PyroError } from "../errors/index.js";
import { writeJsonAtomic } from "../platform/atomic-file.js";
import { GuestNetwork } from "../machine/network/guest-network.js";
import { NetworkPolicy } from "./network/policy.js";

export const VM_RECORD_SCHEMA = 1;

export const VmState = z.enum(["created", "starting", "running", "stopped", "expired", "failed"]);
export type VmState = z.infer<typeof VmState>;

/** A machine driver's name; machine/registry.ts names them and resolves it (driverByName). */
export const BackendName = z.string().min(1);
export type BackendName = z.infer<typeof BackendName>;

export const ExecutionMode = z.enum(["guest_serial", "guest_vsock", "host_compat"]);
export type ExecutionMode = z.infer<typeof ExecutionMode>;

/** What pyro persists about one VM (vm.json in its folder). */
export const VmRecord = z.object({
  schema: z.literal(VM_RECORD_SCHEMA),
  id: z.string(),
  environment: z.string(),
  backend: BackendName,
  accel: z.enum(["kvm", "tcg", "none"]),
  execution_mode: ExecutionMode,
  vcpu_count: z.number().int(),
  mem_mib: z.number().int(),
  ttl_seconds: z.number().int(),
  /** Any policy but off gives the guest a network device (policy.ts: allowsEgress). */
  network_policy: NetworkPolicy.default("off"),
  /** Egress may reach private ranges too (the frame filter refuses them otherwise). */
  allow_private_egress: z.boolean().default(false),
  /** How the current (or last) boot wired the guest's network; null without one. */
  network_plan: GuestNetwork.nullable().default(null),
  /** One-shot VMs (run, exec) are torn down when their owner process goes away. */
  ephemeral: z.boolean(),
  owner_pid: z.number().int().nullable(),
  state: VmState,
  created_at: z.string(),
  started_at: z.string().nullable(),
  expires_at: z.string(),
  /** Boot artifacts resolved at create time (null for the host backend). */
  boot: z.object({ kernel: z.string(), initramfs: z.string(), rootfs: z.string() }).nullable(),
  supervisor_pid: z.number().int().nullable(),
  vmm_pid: z.number().int().nullable(),
  guest: z
    .object({
      kernel_release: z.string(),
      agent_version: z.string(),
    })
    .nullable(),
  last_error: z.object({ code: z.string(), message: z.string() }).nullable(),
});
export type VmRecord = z.infer<typeof VmRecord>;

/** Files of one VM's folder. Sockets stay short-named to fit sockaddr_un. */
export function vmFiles(dir: string): {
  record: string;
  lock: string;
  supervisorSocket: string;
  agentSocket: string;
  consoleLog: string;
  supervisorLog: string;
  scratch: string;
} {
  return {
    record: join(dir, "vm.json"),
    lock: join(dir, "vm.lock"),
    supervisorSocket: join(dir, "s.sock"),
    agentSocket: join(dir, "a.sock"),
    consoleLog: join(dir, "console.log"),
    supervisorLog: join(dir, "supervisor.log"),
    scratch: join(dir, "scratch"),
  };
}

export function readVmRecord(dir: string): VmRecord | null {
  const path = vmFiles(dir).record;
  if (!existsSync(path)) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new PyroError("STATE_CORRUPT", `cannot parse ${path}`, { cause: error });
  }
  const parsed = VmRecord.safeParse(raw);
  if (!parsed.success) {
    throw new PyroError(
      "STATE_CORRUPT",
      `${path} does not match schema ${VM_RECORD_SCHEMA}: ${parsed.error.message}`,
    );
  }
  return parsed.data;
}

export function writeVmRecord(dir: string, record: VmRecord): void {
  writeJsonAtomic(vmFiles(dir).record, record);
}

/** Reads, changes and writes back a record; the caller holds the VM lock or is its supervisor. */
export function updateVmRecord(dir: string, change: (record: VmRecord) => void): VmRecord {
  const record = readVmRecord(dir);
  if (record === null) throw new PyroError("VM_NOT_FOUND", `no VM record in ${dir}`);
  change(record);
  writeVmRecord(dir, record);
  return record;
}
