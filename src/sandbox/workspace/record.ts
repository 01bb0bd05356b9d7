import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { NetworkPolicy } from "../network/policy.js";
import { PyroError } from "../../errors/index.js";
import { writeJsonAtomic } from "../../platform/atomic-file.js";
import { workspaceDir } from "../../platform/paths.js";
import { BackendName } from "../vm-record.js";

export const WORKSPACE_RECORD_SCHEMA = 1;

export const SeedMode = z.enum(["empty", "directory", "archive", "file"]);

/** What pyro persists about one workspace (workspace.json); its VM has its own record under vm/. */
export const WorkspaceRecord = z.object({
  schema: z.literal(WORKSPACE_RECORD_SCHEMA),
  id: z.string(),
  name: z.string().nullable(),
  labels: z.record(z.string(), z.string()),
  environment: z.string(),
  vcpu_count: z.number().int(),
  mem_mib: z.number().int(),
  ttl_seconds: z.number().int(),
  allow_host_compat: z.boolean(),
  /** The backend chosen at create time; reset recreates the sandbox with the same one. */
  backend: BackendName,
  network_policy: NetworkPolicy,
  allow_private_egress: z.boolean().default(false),
  created_at: z.string(),
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
export type WorkspaceRecord = z.infer<typeof WorkspaceRecord>;

/** The files of one workspace folder. */
export function workspaceFiles(id: string): {
  dir: string;
  record: string;
  lock: string;
  baseline: string;
  history: string;
  snapshots: string;
  vm: string;
} {
  const dir = workspaceDir(id);
  return {
    dir,
    record: join(dir, "workspace.json"),
    lock: join(dir, "workspace.lock"),
    baseline: join(dir, "baseline.tar"),
    history: join(dir, "history.jsonl"),
    snapshots: join(dir, "snapshots"),
    vm: join(dir, "vm"),
  };
}

const ID_PATTERN = /^[a-f0-9]{12}$/;

export const isWorkspaceId = (id: string): boolean => ID_PATTERN.test(id);

export function readWorkspaceRecord(id: string): WorkspaceRecord {
  const path = workspaceFiles(id).record;
  if (!ID_PATTERN.test(id) || !existsSync(path)) {
    throw new PyroError("WORKSPACE_NOT_FOUND", `no workspace with id "${id}"`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new PyroError("STATE_CORRUPT", `cannot parse ${path}`, { cause: error });
  }
  const parsed = WorkspaceRecord.safeParse(raw);
  if (!parsed.success) {
    throw new PyroError(
      "STATE_CORRUPT",
      `${path} does not match schema ${WORKSPACE_RECORD_SCHEMA}: ${parsed.error.message}`,
    );
  }
  return parsed.data;
}

export function writeWorkspaceRecord(record: WorkspaceRecord): void {
  writeJsonAtomic(workspaceFiles(record.id).record, record);
}
