import { ERROR_CATALOG, type ErrorCode } from "./catalog.js";
import { troubleshootingLink } from "./troubleshooting.js";

export interface PyroErrorOptions {
  hint?: string;
  cause?: unknown;
  details?: Record<string, unknown>;
}

/** The one error type of pyro: a stable code, an actionable message, a hint, its docs entry and the cause. */
export class PyroError extends Error {
  readonly code: ErrorCode;
  readonly hint: string;
  /** The code's entry in docs/troubleshooting.md (a path with an anchor). */
  readonly docs: string;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: PyroErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "PyroError";
    this.code = code;
    this.hint = options.hint ?? ERROR_CATALOG[code].hint;
    this.docs = troubleshootingLink(code);
    this.details = options.details ?? {};
  }

  get exitCode(): number {
    return ERROR_CATALOG[this.code].exit;
  }

  toJSON(): {
    code: ErrorCode;
    message: string;
    hint: string;
    docs: string;
    details: Record<string, unknown>;
  } {
    return {
      code: this.code,
      message: this.message,
      hint: this.hint,
      docs: this.docs,
      details: this.details,
    };
  }
}

/** Turns anything thrown into a PyroError, keeping the original as the cause. */
export function toPyroError(error: unknown): PyroError {
  if (error instanceof PyroError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new PyroError("INTERNAL", message, { cause: error });
}
