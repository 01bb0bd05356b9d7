import { PyroError } from "../errors/index.js";

/** A size or count limit on something the guest (or an archive) controls, set from the environment. */
export interface Cap {
  /** The environment variable that sets it. */
  readonly setting: string;
  /** What it limits, for messages ("an export"). */
  readonly what: string;
  readonly unit: "bytes" | "entries";
  readonly fallback: number;
}

const GIB = 1024 ** 3;

export const EXPORT_BYTES: Cap = {
  setting: "PYRO_MAX_EXPORT_BYTES",
  what: "an export",
  unit: "bytes",
  fallback: 4 * GIB,
};
export const SNAPSHOT_BYTES: Cap = {
  setting: "PYRO_MAX_SNAPSHOT_BYTES",
  what: "a snapshot or baseline archive of /workspace",
  unit: "bytes",
  fallback: 4 * GIB,
};
export const SEED_BYTES: Cap = {
  setting: "PYRO_MAX_SEED_BYTES",
  what: "a seed or sync source",
  unit: "bytes",
  fallback: 4 * GIB,
};
export const ARCHIVE_ENTRIES: Cap = {
  setting: "PYRO_MAX_ARCHIVE_ENTRIES",
  what: "an archive, export or seed",
  unit: "entries",
  fallback: 1_000_000,
};

const SUFFIXES: Readonly<Record<string, number>> = { "": 1, k: 1024, m: 1024 ** 2, g: GIB, t: 1024 ** 4 };

/** The cap's value now: its setting (a whole number, bytes may end in K, M, G or T) or its default. */
export function capValue(cap: Cap): number {
  const raw = process.env[cap.setting]?.trim();
  if (raw === undefined || raw === "") return cap.fallback;
  const match = /^(\d{1,15})([kmgt]?)i?b?$/i.exec(raw);
  const value = match === null ? NaN : Number(match[1]) * (SUFFIXES[(match[2] ?? "").toLowerCase()] ?? NaN);
  if (!Number.isSafeInteger(value) || value < 1 || (cap.unit === "entries" && match?.[2] !== "")) {
    throw new PyroError("INVALID_ARGUMENT", `${cap.setting}=${JSON.stringify(raw)} is not a valid limit.`, {
      hint: `Set ${cap.setting} to a positive whole number of ${cap.unit}${cap.unit === "bytes" ? " (K, M, G or T suffixes allowed, e.g. 8G)" : ""}.`,
    });
  }
  return value;
}

/** LIMIT_EXCEEDED for `cap`, naming the limit and how to raise it. */
export function limitExceeded(cap: Cap, limit: number, detail = ""): PyroError {
  return new PyroError(
    "LIMIT_EXCEEDED",
    `${capitalised(cap.what)} may hold at most ${limit} ${cap.unit}${detail ? `: ${detail}` : ""} (limit ${cap.setting}).`,
    {
      hint: `Raise the limit by setting ${cap.setting} (e.g. ${cap.setting}=${suggestion(cap, limit)}) in the environment of pyro or of the MCP server, or move less data.`,
      details: { limit: cap.setting, value: limit, unit: cap.unit },
    },
  );
}

/** A running total checked against a cap as things are counted. */
export class CapBudget {
  readonly limit: number;
  private used = 0;

  constructor(private readonly cap: Cap) {
    this.limit = capValue(cap);
  }

  get total(): number {
    return this.used;
  }

  /** Counts `amount` more; LIMIT_EXCEEDED once the total passes the cap. */
  take(amount: number, detail?: string): void {
    this.used += amount;
    if (this.used > this.limit) throw limitExceeded(this.cap, this.limit, detail);
  }
}

function suggestion(cap: Cap, limit: number): string {
  if (cap.unit === "entries") return String(limit * 4);
  return `${Math.max(1, Math.ceil((limit * 4) / GIB))}G`;
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
