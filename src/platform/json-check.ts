/**
 * Validates parsed JSON against a JSON Schema that zod generated from one of pyro's schemas (the
 * `*.json-schema.ts` files beside them, kept equal to the zod schema by test/unit/json-schemas.test.ts).
 * It exists so reading a record or a manifest does not load zod, which costs more than a bare
 * node start: commands that only read state (`workspace list`, `env list`, `doctor`) stay fast.
 *
 * The result is what zod's parse would give: keys an object does not declare are dropped and
 * declared defaults are filled in. Only the keywords zod emits for those schemas are supported;
 * any other keyword is refused when checking, never silently skipped.
 */

export type JsonSchema = { readonly [keyword: string]: unknown };

/** A JSON Schema generated from the zod schema of `T` (the phantom type links the two). */
export type JsonSchemaOf<T> = JsonSchema & { readonly __of?: T };

export type JsonCheck<T> = { ok: true; value: T } | { ok: false; issues: string[] };

const KNOWN = new Set([
  "$schema",
  "type",
  "const",
  "enum",
  "pattern",
  "minLength",
  "maxLength",
  "maxItems",
  "minimum",
  "maximum",
  "properties",
  "required",
  "additionalProperties",
  "propertyNames",
  "items",
  "anyOf",
  "default",
  "description",
]);

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function matchesType(value: unknown, type: unknown): boolean {
  const types = Array.isArray(type) ? type : [type];
  const actual = typeOf(value);
  return types.some((t) => t === actual || (t === "number" && actual === "integer"));
}

const schemaAt = (schema: JsonSchema, keyword: string): JsonSchema => {
  const inner = schema[keyword];
  if (!isObject(inner)) throw new Error(`JSON Schema keyword ${keyword} is not a schema`);
  return inner;
};

/** Checks one value; returns its parsed form, or pushes issues (path: message) and returns undefined. */
function check(schema: JsonSchema, value: unknown, path: string, issues: string[]): unknown {
  for (const keyword of Object.keys(schema)) {
    if (!KNOWN.has(keyword)) throw new Error(`unsupported JSON Schema keyword ${keyword} at ${path}`);
  }
  const at = path === "" ? "record" : path;
  if (Array.isArray(schema.anyOf)) {
    const attempts: string[][] = [];
    for (const option of schema.anyOf) {
      const attempt: string[] = [];
      const parsed = check(option as JsonSchema, value, path, attempt);
      if (attempt.length === 0) return parsed;
      attempts.push(attempt);
    }
    // Report the shape the value was meant to have: the option it failed inside, not by type.
    const inside = attempts.find((attempt) => !attempt.some((issue) => issue.startsWith(`${at}: expected`)));
    issues.push(...(inside ?? [`${at}: matches none of the allowed shapes`]));
    return undefined;
  }
  if (schema.type !== undefined && !matchesType(value, schema.type)) {
    issues.push(`${at}: expected ${[schema.type].flat().join(" or ")}, received ${typeOf(value)}`);
    return undefined;
  }
  if ("const" in schema && value !== schema.const) {
    issues.push(`${at}: expected ${JSON.stringify(schema.const)}`);
    return undefined;
  }
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) {
    issues.push(`${at}: expected one of ${schema.enum.map((v) => JSON.stringify(v)).join(", ")}`);
    return undefined;
  }
  if (typeof value === "string") {
    if (typeof schema.minLength === "number" && value.length < schema.minLength) {
      issues.push(`${at}: shorter than ${schema.minLength}`);
    }
    if (typeof schema.maxLength === "number" && value.length > schema.maxLength) {
      issues.push(`${at}: longer than ${schema.maxLength}`);
    }
    if (typeof schema.pattern === "string" && !new RegExp(schema.pattern).test(value)) {
      // A pattern's description says what it means ("must be a plain file name"), when it has one.
      const meaning =
        typeof schema.description === "string" ? schema.description : `does not match ${schema.pattern}`;
      issues.push(`${at}: ${meaning}`);
    }
    return value;
  }
  if (typeof value === "number") {
    if (typeof schema.minimum === "number" && value < schema.minimum)
      issues.push(`${at}: below ${schema.minimum}`);
    if (typeof schema.maximum === "number" && value > schema.maximum)
      issues.push(`${at}: above ${schema.maximum}`);
    return value;
  }
  if (Array.isArray(value)) {
    if (typeof schema.maxItems === "number" && value.length > schema.maxItems) {
      issues.push(`${at}: more than ${schema.maxItems} items`);
      return undefined;
    }
    if (schema.items === undefined) return [...value];
    const items = schemaAt(schema, "items");
    return value.map((item, index) => check(items, item, `${path}${path ? "." : ""}${index}`, issues));
  }
  if (isObject(value)) return checkObject(schema, value, path, issues);
  return value;
}

/** Sets a key of a fresh object without ever touching its prototype (a key may be "__proto__"). */
const define = (target: Record<string, unknown>, key: string, value: unknown): void => {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
};

function checkObject(
  schema: JsonSchema,
  value: Record<string, unknown>,
  path: string,
  issues: string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const join = (key: string): string => `${path}${path ? "." : ""}${key}`;
  const required = Array.isArray(schema.required) ? schema.required : [];
  const properties = isObject(schema.properties) ? schema.properties : {};
  for (const [key, inner] of Object.entries(properties)) {
    const property = inner as JsonSchema;
    if (!Object.hasOwn(value, key) || value[key] === undefined) {
      if ("default" in property) define(out, key, structuredClone(property.default));
      else if (required.includes(key)) issues.push(`${join(key)}: required`);
      continue;
    }
    define(out, key, check(property, value[key], join(key), issues));
  }
  if (schema.additionalProperties === false) {
    for (const key of Object.keys(value)) {
      if (!Object.hasOwn(properties, key)) issues.push(`${join(key)}: not allowed`);
    }
  } else if (schema.additionalProperties !== undefined) {
    const extra = schemaAt(schema, "additionalProperties");
    const names = schema.propertyNames === undefined ? undefined : schemaAt(schema, "propertyNames");
    for (const [key, inner] of Object.entries(value)) {
      if (Object.hasOwn(properties, key)) continue;
      if (names !== undefined) check(names, key, join(key), issues);
      define(out, key, check(extra, inner, join(key), issues));
    }
  }
  return out;
}

/** Checks `value` against `schema`: the parsed value, or the issues found (path: message). */
export function checkJson<T>(schema: JsonSchemaOf<T>, value: unknown): JsonCheck<T> {
  const issues: string[] = [];
  const parsed = check(schema, value, "", issues);
  // The one place the checked value gets its type: `schema` is zod's own rendering of T's schema.
  return issues.length === 0 ? { ok: true, value: parsed as T } : { ok: false, issues };
}
