import { PyroError } from "../errors/index.js";
import { checkJson } from "../platform/json-check.js";
import type { SandboxRecord } from "./record.js";
import { SANDBOX_RECORD_JSON_SCHEMA } from "./record.json-schema.js";

/**
 * Reading sandbox.json, without zod: every command reads records, and loading zod would cost
 * more than node's own start. The record is validated against record.ts's schema all the same,
 * through the JSON Schema zod generates from it (record.json-schema.ts).
 */

/** Version of sandbox.json; a record with another number is refused, never guessed at. */
export const SANDBOX_RECORD_SCHEMA = 2;

const ID_PATTERN = /^[a-f0-9]{12}$/;

/** Sandbox ids are 12 lowercase hex digits, one space for VMs and workspaces alike. */
export const isSandboxId = (id: string): boolean => ID_PATTERN.test(id);

const MAX_ISSUES_SHOWN = 5;

/**
 * Parses the text of `path` as the record of sandbox `id`. Damage, another pyro's schema and a
 * record of another id are each reported as STATE_CORRUPT naming the file, never thrown raw.
 */
export function parseSandboxRecord(text: string, path: string, id: string): SandboxRecord {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new PyroError("STATE_CORRUPT", `cannot parse ${path}: it is not JSON`, { cause: error });
  }
  const schema = typeof raw === "object" && raw !== null && "schema" in raw ? raw.schema : undefined;
  if (typeof schema === "number" && schema > SANDBOX_RECORD_SCHEMA) {
    throw new PyroError(
      "STATE_CORRUPT",
      `${path} was written by a newer pyro (record schema ${schema}; this one reads schema ${SANDBOX_RECORD_SCHEMA})`,
      { hint: "Upgrade pyro, or point PYRO_HOME elsewhere." },
    );
  }
  const parsed = checkJson(SANDBOX_RECORD_JSON_SCHEMA, raw);
  if (!parsed.ok) {
    const issues = parsed.issues.slice(0, MAX_ISSUES_SHOWN);
    throw new PyroError(
      "STATE_CORRUPT",
      `${path} is not a sandbox record of schema ${SANDBOX_RECORD_SCHEMA} (${issues.join("; ")})`,
    );
  }
  if (parsed.value.id !== id) {
    throw new PyroError("STATE_CORRUPT", `${path} holds the record of ${parsed.value.id}, not ${id}`);
  }
  return parsed.value;
}
