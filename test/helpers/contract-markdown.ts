import { OPERATIONS } from "../../src/api/specs/index.js";
import { PROFILES, DEFAULT_PROFILE } from "../../src/api/profiles.js";
import type { AnyOperation, Profile } from "../../src/api/types.js";
import { CLI_EXTRAS } from "../../src/surfaces/cli/extras.js";
import { cliParameters, inputSchema } from "../../src/surfaces/cli/parameters.js";

/**
 * docs/contract.md and the profile table of docs/integrations.md, rendered from the operation
 * specs: the same table the CLI, the SDK and the MCP server are generated from, so the docs
 * cannot drift from what the surfaces offer. test/unit/contract-doc.test.ts checks and rewrites them.
 */

interface JsonProperty {
  type?: string | string[];
  anyOf?: JsonProperty[];
  oneOf?: JsonProperty[];
  enum?: unknown[];
  const?: unknown;
  items?: JsonProperty;
  properties?: Record<string, JsonProperty>;
  required?: string[];
  additionalProperties?: unknown;
  description?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
}

const isProperty = (value: unknown): value is JsonProperty =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** A JSON Schema property as a TypeScript-like type: `string`, `"off" | "egress"`, `string[]`. */
function typeText(property: JsonProperty): string {
  if (property.const !== undefined) return JSON.stringify(property.const);
  if (property.enum !== undefined) return property.enum.map((value) => JSON.stringify(value)).join(" | ");
  const branches = property.anyOf ?? property.oneOf;
  if (branches !== undefined) return branches.map(typeText).join(" | ");
  const types = property.type === undefined ? [] : [property.type].flat();
  return types
    .map((type) => {
      if (type === "array") {
        const item = property.items === undefined ? "unknown" : typeText(property.items);
        return item.includes(" ") ? `(${item})[]` : `${item}[]`;
      }
      if (type === "object" && property.properties !== undefined) {
        const required = property.required ?? [];
        const fields = Object.entries(property.properties).map(
          ([key, value]) => `${key}${required.includes(key) ? "" : "?"}: ${typeText(value)}`,
        );
        return `{ ${fields.join("; ")} }`;
      }
      if (type === "object" && isProperty(property.additionalProperties)) {
        return `Record<string, ${typeText(property.additionalProperties)}>`;
      }
      return type;
    })
    .join(" | ");
}

/** Bounds a schema puts on a value, as a short note: `1–32`, `≤ 512 chars`. */
function limitsText(property: JsonProperty): string {
  const notes: string[] = [];
  const range = (low: number | undefined, bound: number | undefined, unit: string): void => {
    const high = bound === undefined || bound >= Number.MAX_SAFE_INTEGER ? undefined : bound;
    if (unit === " chars" && low === 1 && high === undefined) notes.push("non-empty");
    else if (low !== undefined && high !== undefined) notes.push(`${low}–${high}${unit}`);
    else if (low !== undefined && low > 0) notes.push(`≥ ${low}${unit}`);
    else if (high !== undefined) notes.push(`≤ ${high}${unit}`);
  };
  range(property.minimum, property.maximum, "");
  range(property.minLength, property.maxLength, " chars");
  range(property.minItems, property.maxItems, " items");
  for (const branch of property.anyOf ?? property.oneOf ?? []) {
    const inner = limitsText(branch);
    if (inner !== "" && !notes.includes(inner)) notes.push(inner);
  }
  return notes.join(", ");
}

/** Text safe inside a Markdown table cell. */
const cell = (text: string): string => text.replace(/\s*\n\s*/g, " ").replace(/\|/g, "\\|");
const code = (text: string): string => `\`${text}\``;
const camel = (name: string): string =>
  name.replace(/_([a-z])/g, (_match, letter: string) => letter.toUpperCase());

/** The command line an operation shows as its example, when its spec has one (optional). */
function exampleOf(operation: AnyOperation): string | undefined {
  const holders: unknown[] = [operation.cli, operation];
  for (const holder of holders) {
    if (isProperty(holder) && "example" in holder && typeof holder.example === "string")
      return holder.example;
  }
  return undefined;
}

function cliUsage(operation: AnyOperation): string {
  const { positionals } = cliParameters(operation);
  const args = positionals.map((positional) =>
    positional.param === "command" ? "-- [command...]" : positional.syntax,
  );
  return ["pyro", ...operation.cli.words, ...args].join(" ");
}

/** How the CLI takes one parameter: a positional, a flag, or options of the CLI's own. */
function cliSpelling(operation: AnyOperation, param: string): string {
  const { positionals, flags } = cliParameters(operation);
  const positional = positionals.find((entry) => entry.param === param);
  if (positional !== undefined)
    return param === "command" ? "after `--`" : `${code(positional.syntax)} (positional)`;
  const flag = flags.find((entry) => entry.param === param);
  if (flag !== undefined) return code(flag.long);
  const extra = CLI_EXTRAS.get(operation.name);
  const options = (extra?.options ?? []).map((option) => code(option.flags.split(" ")[0] ?? option.flags));
  return options.length === 0 ? "CLI-specific" : options.join(", ");
}

function parameterTable(operation: AnyOperation): string[] {
  const { properties, required } = inputSchema(operation);
  const entries = Object.entries(properties);
  if (entries.length === 0) return ["No parameters."];
  const fullOnly = operation.fullProfileOnly ?? [];
  const rows = entries.map(([param, property]) => {
    const notes = [
      limitsText(property),
      fullOnly.includes(param) ? "workspace-full only" : "",
      operation.hostPaths?.[param] !== undefined ? `host path (${operation.hostPaths[param]})` : "",
    ].filter((note) => note !== "");
    const defaultText = property.default === undefined ? "" : code(JSON.stringify(property.default));
    return [
      camel(param) === param ? code(param) : `${code(param)} / ${code(camel(param))}`,
      code(typeText(property)),
      required.includes(param) ? "yes" : "",
      defaultText,
      cliSpelling(operation, param),
      [property.description ?? "", notes.length > 0 ? `(${notes.join("; ")})` : ""].filter(Boolean).join(" "),
    ].map(cell);
  });
  return [
    "| parameter (MCP / SDK) | type | required | default | CLI | description |",
    "| --- | --- | --- | --- | --- | --- |",
    ...rows.map((row) => `| ${row.join(" | ")} |`),
  ];
}

function operationSection(operation: AnyOperation): string[] {
  const extras = (CLI_EXTRAS.get(operation.name)?.options ?? []).map((option) => code(option.flags));
  const example = exampleOf(operation);
  return [
    `### ${operation.name}`,
    "",
    operation.description,
    "",
    `- MCP tool: ${code(operation.name)}`,
    `- CLI: ${code(cliUsage(operation))}${extras.length > 0 ? `; CLI-only options ${extras.join(", ")}` : ""}`,
    `- SDK: ${code(`pyro.${operation.sdkMethod}(${Object.keys(inputSchema(operation).properties).length > 0 ? "{ … }" : ""})`)}`,
    `- Profiles: ${operation.profiles.map(code).join(", ")}`,
    ...(example === undefined ? [] : ["", "Example:", "", "```sh", example, "```"]),
    "",
    ...parameterTable(operation),
    "",
  ];
}

/** The tools each MCP profile exposes, in the order the server lists them; each profile adds to the one before. */
export function profileTable(): string {
  let previous: string[] = [];
  const lines = PROFILES.map((profile: Profile) => {
    const names = OPERATIONS.filter((operation) => operation.profiles.includes(profile)).map((op) => op.name);
    const added = names.filter((name) => !previous.includes(name)).map(code);
    const label = profile === DEFAULT_PROFILE ? `${code(profile)} (the default)` : code(profile);
    const base = previous.length === 0 ? "" : `the ${previous.length} above, plus `;
    previous = names;
    return `- ${label}, ${names.length} tools: ${base}${added.join(", ")}`;
  });
  const hidden = OPERATIONS.filter((operation) => (operation.fullProfileOnly ?? []).length > 0).map(
    (operation) => `- ${code(operation.name)}: ${(operation.fullProfileOnly ?? []).map(code).join(", ")}`,
  );
  return [
    ...lines,
    "",
    "Parameters only the `workspace-full` profile offers (the other profiles leave them out of the tool's schema):",
    "",
    ...hidden,
  ].join("\n");
}

export function contractMarkdown(): string {
  const summary = OPERATIONS.map((operation) =>
    [
      `[${code(operation.name)}](#${operation.name})`,
      code(cliUsage(operation)),
      code(operation.sdkMethod),
      operation.profiles.join(", "),
    ].map(cell),
  );
  return [
    "# Public contract",
    "",
    "<!-- Generated from src/api/specs by test/unit/contract-doc.test.ts; do not edit. Regenerate: UPDATE_CONTRACT=1 npx vitest run test/unit/contract-doc.test.ts -->",
    "",
    "Every operation pyro offers is defined once, in `src/api/specs/`: the MCP tool, the CLI command and the SDK method below are generated from that one spec, take the same parameters (snake_case on MCP and the CLI's `--json`, camelCase in the SDK's options object; CLI flags are the kebab-case spelling unless the table says otherwise) with the same defaults, and return the same structured result. Failures carry a stable code from the [error catalog](troubleshooting.md).",
    "",
    `${OPERATIONS.length} operations.`,
    "",
    "## Profiles",
    "",
    "`pyro mcp serve --profile NAME` exposes these tools:",
    "",
    profileTable(),
    "",
    "## Operations",
    "",
    "| MCP tool | CLI | SDK | profiles |",
    "| --- | --- | --- | --- |",
    ...summary.map((row) => `| ${row.join(" | ")} |`),
    "",
    ...OPERATIONS.flatMap(operationSection),
  ].join("\n");
}
