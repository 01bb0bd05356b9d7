import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Where a supervisor keeps its current expiry (ms since the epoch, as text) for the host's views. */
export const expiryPath = (dir: string): string => join(dir, "expires-at");

/** How often a moved deadline is written to expiryPath: views may lag activity by this much. */
const PERSIST_MS = 1_000;
/** setTimeout's longest delay; a later deadline is reached by re-arming. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * When a VM expires. Fixed (`idleTtlMs` null: one-shot VMs keep their absolute `expiresAtMs`), or
 * idle: every `touch` moves the deadline to now + idleTtlMs. A touch only stores a time; the one
 * timer finds a moved deadline when it fires and waits again, so activity costs no timer per frame.
 */
export class ExpiryClock {
  private lastActivity = Date.now();
  private timer: NodeJS.Timeout | null = null;
  private persister: NodeJS.Timeout | null = null;
  private persisted = Number.NaN;

  constructor(
    private idleTtlMs: number | null,
    private fixedAtMs: number,
    private readonly onExpire: () => void,
    /** The VM folder: an idle deadline is kept in expiryPath(dir) for views (null: not kept). */
    private readonly dir: string | null,
  ) {}

  get expiresAtMs(): number {
    return this.idleTtlMs === null ? this.fixedAtMs : this.lastActivity + this.idleTtlMs;
  }

  get idleMs(): number | null {
    return this.idleTtlMs;
  }

  start(): void {
    this.arm();
    if (this.idleTtlMs !== null && this.dir !== null) {
      this.persist();
      this.persister = setInterval(() => this.persist(), PERSIST_MS);
      this.persister.unref();
    }
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.persister !== null) clearInterval(this.persister);
    this.timer = this.persister = null;
  }

  /** A client did something: an idle deadline moves to now + the TTL. */
  touch(): void {
    this.lastActivity = Date.now();
  }

  /** A new TTL counted from now (an idle one from now as the last activity). */
  setTtl(ms: number): void {
    if (this.idleTtlMs === null) this.fixedAtMs = Date.now() + ms;
    else this.idleTtlMs = ms;
    this.touch();
    this.persist();
    if (this.timer !== null) this.arm();
  }

  private arm(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    const wait = Math.min(Math.max(0, this.expiresAtMs - Date.now()), MAX_TIMER_MS);
    this.timer = setTimeout(() => this.check(), wait);
  }

  private check(): void {
    if (Date.now() < this.expiresAtMs) {
      this.arm();
      return;
    }
    this.stop();
    this.onExpire();
  }

  private persist(): void {
    if (this.dir === null || this.idleTtlMs === null) return;
    const at = this.expiresAtMs;
    if (at === this.persisted) return;
    const path = expiryPath(this.dir);
    try {
      writeFileSync(`${path}.tmp`, String(at), { mode: 0o600 });
      renameSync(`${path}.tmp`, path);
      this.persisted = at;
    } catch {
      // A full disk must not end the VM: views fall back to the record's expiry.
    }
  }
}

/** The expiry a running supervisor last kept in `dir` (null: none, or not a time). */
export function readKeptExpiry(dir: string): number | null {
  try {
    const text = readFileSync(expiryPath(dir), "utf8");
    if (!/^\d{1,15}$/.test(text)) return null;
    return Number(text);
  } catch {
    return null;
  }
}

/** A new run starts without the last one's expiry. */
export function forgetKeptExpiry(dir: string): void {
  rmSync(expiryPath(dir), { force: true });
}
