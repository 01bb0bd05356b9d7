import { PyroError } from "../../errors/index.js";
import type { CliFlag } from "./parameters.js";

/** Parses an integer option strictly; anything else becomes a clear INVALID_ARGUMENT. */
export function integerOption(flag: string): (value: string) => number {
  return (value: string) => {
    if (!/^-?\d+$/.test(value.trim())) {
      throw new PyroError("INVALID_ARGUMENT", `${flag} must be a whole number, got "${value}"`);
    }
    return Number.parseInt(value, 10);
  };
}

/** Accumulates a repeatable option's values. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Repeated KEY=VALUE options into an object; a pair without "=" is a usage error (never echoing a secret). */
export function pairsFrom(flag: string, pairs: string[]): Record<string, string> {
  const values: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    if (at <= 0) throw new PyroError("INVALID_ARGUMENT", `${flag} wants NAME=VALUE`);
    values[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return values;
}

/** Commander's parser for a flag's value, if it needs one. */
export function parserFor(flag: CliFlag): ((value: string, previous?: unknown) => unknown) | undefined {
  if (flag.kind === "integer") return integerOption(flag.long);
  if (flag.kind === "list" || flag.kind === "pairs") {
    return (value: string, previous?: unknown) => collect(value, Array.isArray(previous) ? previous : []);
  }
  return undefined;
}

/**
 * The parameter value a flag gave, or undefined when the user did not give it (so the schema's
 * default applies, the same default the SDK and MCP get).
 */
export function flagValue(flag: CliFlag, given: unknown): unknown {
  if (given === undefined) return undefined;
  if (flag.kind === "negated") return given === false ? false : undefined;
  if (flag.kind === "pairs") return pairsFrom(flag.long, Array.isArray(given) ? given.map(String) : []);
  return given;
}
