import { AsyncLocalStorage } from "node:async_hooks";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { PyroError, type ErrorCode } from "../errors/index.js";
import { writeJsonAtomic } from "../platform/atomic-file.js";
import { withFileLock, withFileLockIfFree } from "../platform/file-lock.js";
import { defaultPyroHome } from "../platform/paths.js";
import { isSandboxId, parseSandboxRecord } from "./record-parse.js";
import type { SandboxRecord } from "./record.js";
import { reapExpired, type ReapReport } from "./reaper.js";

/** What a caller may choose for one store (`new Pyro({ home })`); the rest comes from the environment. */
export interface StoreOptions {
  /** Root of pyro's state; default PYRO_HOME, else $XDG_STATE_HOME/pyro-mcp, else ~/.local/state/pyro-mcp. */
  home?: string;
  /** Backend used when a call names none; default PYRO_BACKEND, else automatic selection. */
  backend?: string;
  /** How long a boot may take; default PYRO_BOOT_TIMEOUT_MS, else 60 s. */
  bootTimeoutMs?: number;
  /** Restore VMs from memory templates where the backend can; default true unless PYRO_TEMPLATES=off. */
  templates?: boolean;
  /** Virtual size of a workspace's own disk; default PYRO_WORKSPACE_DISK_GIB, else 8 GiB. */
  workspaceDiskGiB?: number;
}

/** The files of one sandbox's folder. The VM's own files (sockets, disk, logs) live in `machine`. */
export interface SandboxFiles {
  dir: string;
  record: string;
  lock: string;
  /** The VM folder handed to the supervisor; a reset replaces it whole. */
  machine: string;
  baseline: string;
  /** A workspace's own disk (/workspace) on a driver with workspace images; absent otherwise. */
  disk: string;
  history: string;
  snapshots: string;
  secrets: string;
  serviceReady: string;
  /** A paused VM's saved state (its disks stay where they are). */
  paused: string;
}

const DEFAULT_BOOT_TIMEOUT_MS = 60_000;
/** A folder without a record this old is what a crash during create left behind. */
const ABANDONED_AFTER_MS = 10 * 60_000;

/**
 * Every sandbox of one pyro home: id allocation, records, per-sandbox locks and reaping. Built
 * once per surface (the CLI process, an MCP server, each `new Pyro()`); environment variables are
 * read here and nowhere else, so two stores with different homes never interfere.
 *
 * Layout: <home>/sandboxes/<id>/{sandbox.json, sandbox.lock, vm/, baseline.tar, workspace.qcow2, history.jsonl,
 * snapshots/, secrets/, service-ready/}. Folders of the earlier layout (<home>/vms,
 * <home>/workspaces) are not read: they are invisible here and left untouched.
 */
export class SandboxStore {
  readonly home: string;
  readonly backend: string | undefined;
  readonly bootTimeoutMs: number;
  readonly templates: boolean;
  readonly workspaceDiskBytes: number;
  /** Locks this async flow already holds, so a locked operation may call another one. */
  private readonly held = new AsyncLocalStorage<ReadonlySet<string>>();

  constructor(options: StoreOptions = {}, env: NodeJS.ProcessEnv = process.env) {
    this.home = options.home ?? defaultPyroHome(env);
    this.backend = options.backend ?? (env.PYRO_BACKEND || undefined);
    this.bootTimeoutMs = options.bootTimeoutMs ?? bootTimeoutFrom(env.PYRO_BOOT_TIMEOUT_MS);
    this.templates = options.templates ?? env.PYRO_TEMPLATES !== "off";
    this.workspaceDiskBytes =
      (options.workspaceDiskGiB ?? diskGiBFrom(env.PYRO_WORKSPACE_DISK_GIB)) * 1024 ** 3;
  }

  get root(): string {
    return join(this.home, "sandboxes");
  }

  files(id: string): SandboxFiles {
    if (!isSandboxId(id)) throw new PyroError("INTERNAL", `not a sandbox id: ${JSON.stringify(id)}`);
    const dir = join(this.root, id);
    return {
      dir,
      record: join(dir, "sandbox.json"),
      lock: join(dir, "sandbox.lock"),
      machine: join(dir, "vm"),
      baseline: join(dir, "baseline.tar"),
      disk: join(dir, "workspace.qcow2"),
      history: join(dir, "history.jsonl"),
      snapshots: join(dir, "snapshots"),
      secrets: join(dir, "secrets"),
      serviceReady: join(dir, "service-ready"),
      paused: join(dir, "paused"),
    };
  }

  /** A fresh id with its (empty) folder; unique among VMs and workspaces alike. */
  allocate(): string {
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
    for (;;) {
      const id = randomBytes(6).toString("hex");
      try {
        mkdirSync(join(this.root, id), { mode: 0o700 });
        return id;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
    }
  }

  /** The record of `id`, or null when there is none; a damaged record is STATE_CORRUPT. */
  read(id: string): SandboxRecord | null {
    if (!isSandboxId(id)) return null;
    const path = this.files(id).record;
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw error;
    }
    return parseSandboxRecord(text, path, id);
  }

  /** Writes the record atomically; the caller holds the sandbox's lock. */
  save(record: SandboxRecord): void {
    writeJsonAtomic(this.files(record.id).record, record);
  }

  /** Ids of every sandbox with a record (damaged ones included: reading them reports the damage). */
  ids(): string[] {
    if (!existsSync(this.root)) return [];
    return readdirSync(this.root).filter((name) => isSandboxId(name) && existsSync(this.files(name).record));
  }

  /** Every readable record; a damaged one is reported by its own status call, not here. */
  list(): SandboxRecord[] {
    return this.ids().flatMap((id) => {
      try {
        const record = this.read(id);
        return record === null ? [] : [record];
      } catch {
        return [];
      }
    });
  }

  /**
   * Serialises mutations of one sandbox across processes. Re-entrant within one async flow, so
   * a locked operation may call another (a workspace stop stopping its VM). A sandbox removed
   * while waiting is `missing`.
   */
  async withLock<T>(id: string, action: () => Promise<T>, missing: ErrorCode = "VM_NOT_FOUND"): Promise<T> {
    const path = this.files(id).lock;
    const held = this.held.getStore();
    if (held?.has(path)) return action();
    try {
      return await withFileLock(path, () => this.held.run(new Set([...(held ?? []), path]), action));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT" && !existsSync(this.files(id).dir)) {
        throw new PyroError(missing, `no sandbox with id ${id}`, { cause: error });
      }
      throw error;
    }
  }

  /** Runs `action` under the sandbox's lock only if nobody holds it now (the reaper's way). */
  async withLockIfFree<T>(
    id: string,
    action: () => Promise<T>,
  ): Promise<{ ran: true; value: T } | { ran: false }> {
    const path = this.files(id).lock;
    const held = this.held.getStore();
    if (held?.has(path)) return { ran: true, value: await action() };
    try {
      return await withFileLockIfFree(path, () => this.held.run(new Set([...(held ?? []), path]), action));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return { ran: false };
      throw error;
    }
  }

  /**
   * Removes a sandbox's folder; the caller holds its lock. The folder is first renamed away in
   * one step, so other processes see the sandbox whole or gone, never half-deleted.
   */
  remove(id: string): void {
    const files = this.files(id);
    if (!this.held.getStore()?.has(files.lock)) {
      throw new PyroError("INTERNAL", `sandbox ${id} removed without its lock`);
    }
    const doomed = join(this.root, `.removing-${id}-${randomBytes(4).toString("hex")}`);
    try {
      renameSync(files.dir, doomed);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
      throw error;
    }
    rmSync(doomed, { recursive: true, force: true });
  }

  /** Folders a crash left without a record (during create, or half-removed); the reaper clears them. */
  abandoned(now = Date.now()): { ids: string[]; removing: string[] } {
    if (!existsSync(this.root)) return { ids: [], removing: [] };
    const names = readdirSync(this.root);
    const old = (name: string): boolean => {
      try {
        return now - statSync(join(this.root, name)).mtimeMs > ABANDONED_AFTER_MS;
      } catch {
        return false;
      }
    };
    return {
      ids: names.filter((n) => isSandboxId(n) && !existsSync(this.files(n).record) && old(n)),
      removing: names.filter((n) => n.startsWith(".removing-")).map((n) => join(this.root, n)),
    };
  }

  /** Deletes sandboxes past their TTL and one-shot VMs whose owner died, each under its lock. */
  reap(now = Date.now()): Promise<ReapReport> {
    return reapExpired(this, now);
  }
}

const DEFAULT_WORKSPACE_DISK_GIB = 8;

function diskGiBFrom(value: string | undefined): number {
  if (value === undefined || value === "") return DEFAULT_WORKSPACE_DISK_GIB;
  const gib = Number(value);
  if (!Number.isInteger(gib) || gib < 1 || gib > 16_384)
    throw new PyroError(
      "INVALID_ARGUMENT",
      `PYRO_WORKSPACE_DISK_GIB must be a whole number of GiB, 1 to 16384; got ${value}`,
    );
  return gib;
}

function bootTimeoutFrom(text: string | undefined): number {
  if (text === undefined || text === "") return DEFAULT_BOOT_TIMEOUT_MS;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    throw new PyroError(
      "INVALID_ARGUMENT",
      `PYRO_BOOT_TIMEOUT_MS must be a positive number, not ${JSON.stringify(text)}`,
    );
  }
  return value;
}
