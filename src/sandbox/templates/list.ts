import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { isProcessAlive } from "../../platform/processes.js";
import { rootfsStamp } from "./key.js";
import { TemplateRecord, templateFiles, templatesRoot } from "./files.js";

/** One memory template as env inspect shows it. */
export interface TemplateInfo {
  name: string;
  environment: string;
  vcpu_count: number;
  mem_mib: number;
  network: boolean;
  driver: string;
  accel: string;
  created_at: string;
  /** Bytes on the host's disk (the RAM file is sparse: only what the guest touched). */
  disk_bytes: number;
  boot_ms: number;
  save_ms: number;
  /** Restoring it once, as a check before it was published. */
  verify_ms: number;
  /** Its environment changed since it was made: never restored again, removed by env prune. */
  stale: boolean;
}

function allocatedBytes(dir: string): number {
  return readdirSync(dir).reduce((sum, name) => sum + statSync(join(dir, name)).blocks * 512, 0);
}

function readRecord(path: string): TemplateRecord | null {
  try {
    const parsed = TemplateRecord.safeParse(JSON.parse(readFileSync(path, "utf8")));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Every complete template under pyro's home, optionally only those of one environment. */
export function listTemplates(home: string, environment?: string): TemplateInfo[] {
  const root = templatesRoot(home);
  if (!existsSync(root)) return [];
  const infos: TemplateInfo[] = [];
  for (const name of readdirSync(root).sort()) {
    const files = templateFiles(join(root, name));
    const record = readRecord(files.record);
    if (record === null || (environment !== undefined && record.environment !== environment)) continue;
    infos.push({
      name,
      environment: record.environment,
      vcpu_count: record.vcpu_count,
      mem_mib: record.mem_mib,
      network: record.network,
      driver: record.driver,
      accel: record.accel,
      created_at: record.created_at,
      disk_bytes: allocatedBytes(files.dir),
      boot_ms: record.boot_ms,
      save_ms: record.save_ms,
      verify_ms: record.verify_ms,
      stale: rootfsStamp(record.rootfs) !== record.rootfs_stamp || !existsSync(record.initramfs),
    });
  }
  return infos;
}

export interface PrunedTemplate {
  path: string;
  reason: string;
}

/**
 * Removes templates whose environment changed, failure notes, and leftovers of makes that died;
 * with `all`, every template (they are made again on first use). A template named in `inUse`
 * stays whatever else holds: the root disks of sandboxes restored from it are overlays over its
 * saved disk for as long as those sandboxes exist.
 */
export function pruneTemplates(
  home: string,
  options: { all: boolean; inUse: Set<string> },
): PrunedTemplate[] {
  const root = templatesRoot(home);
  if (!existsSync(root)) return [];
  const removed: PrunedTemplate[] = [];
  const stale = new Set(
    listTemplates(home)
      .filter((t) => t.stale)
      .map((t) => t.name),
  );
  for (const name of readdirSync(root)) {
    const path = join(root, name);
    const making = /^\.make-[0-9a-f]+-(\d+)$/.exec(name);
    let reason: string | null = null;
    if (making !== null) reason = isProcessAlive(Number(making[1])) ? null : "left by a make that died";
    else if (name.endsWith(".failed.json")) reason = "note of a failed make";
    else if (name.endsWith(".lock")) reason = null;
    else if (options.inUse.has(name)) reason = null;
    else if (stale.has(name)) reason = "its environment changed";
    else if (options.all) reason = "all templates removed on request";
    else if (readRecord(templateFiles(path).record) === null) reason = "incomplete or unreadable";
    if (reason === null) continue;
    rmSync(path, { recursive: true, force: true });
    removed.push({ path, reason });
  }
  return removed;
}
