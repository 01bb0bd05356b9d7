import { z } from "zod";
import { inputSchemaOf } from "../../api/input-schema.js";
import type { AnyOperation } from "../../api/types.js";

/** How a parameter is typed on the command line. */
export type FlagKind =
  | "boolean" // --flag sets true
  | "negated" // --no-flag sets false (the parameter defaults to true)
  | "integer"
  | "string"
  | "list" // repeatable, each value one item
  | "pairs"; // repeatable KEY=VALUE, into an object

export interface CliFlag {
  param: string;
  kind: FlagKind;
  /** Commander's option spelling, e.g. "--vcpu-count <n>". */
  flags: string;
  /** The long flag alone, e.g. "--vcpu-count". */
  long: string;
  description: string;
  required: boolean;
  /** The schema's default, shown in help and applied by the schema (never by commander). */
  defaultValue: unknown;
}

export interface CliPositional {
  param: string;
  /** Commander's argument spelling: `<workspace-id>`, `[path]`, `[command...]`. */
  syntax: string;
  description: string;
  defaultValue: unknown;
}

interface JsonProperty {
  type?: string | string[];
  anyOf?: JsonProperty[];
  enum?: unknown[];
  items?: JsonProperty;
  additionalProperties?: unknown;
  description?: string;
  default?: unknown;
}

const kebab = (param: string): string => param.replace(/_/g, "-");

/** The JSON Schema of an operation's input: the same description the MCP tools publish. */
export function inputSchema(operation: AnyOperation): {
  properties: Record<string, JsonProperty>;
  required: string[];
} {
  const schema = z.toJSONSchema(inputSchemaOf(operation), { io: "input" }) as {
    properties?: Record<string, JsonProperty>;
    required?: string[];
  };
  return { properties: schema.properties ?? {}, required: schema.required ?? [] };
}

/** The non-null JSON types a property accepts. */
function typesOf(property: JsonProperty): string[] {
  const own = property.type === undefined ? [] : [property.type].flat();
  const nested = (property.anyOf ?? []).flatMap(typesOf);
  return [...own, ...nested].filter((type) => type !== "null");
}

function kindOf(operation: AnyOperation, param: string, property: JsonProperty): FlagKind {
  const types = typesOf(property);
  const only = types.length === 1 ? types[0] : undefined;
  if (only === "boolean") return property.default === true ? "negated" : "boolean";
  if (only === "integer") return "integer";
  if (only === "string") return "string";
  if (only === "array") return "list";
  if (only === "object") return "pairs";
  throw new Error(`${operation.name}.${param}: no CLI flag for this type; list it in cli.custom`);
}

function placeholder(kind: FlagKind, property: JsonProperty): string {
  if (kind === "integer") return " <n>";
  if (kind === "pairs") return " <KEY=VALUE>";
  if (property.enum !== undefined) return ` <${property.enum.join("|")}>`;
  if (kind === "string" || kind === "list") return " <value>";
  return "";
}

/** A default as help shows it: `(default 30)`; nothing for the absent ones (null, false, none). */
export function describeDefault(value: unknown): string {
  if (value === undefined || value === null || value === false) return "";
  return ` (default ${typeof value === "string" ? value : JSON.stringify(value)})`;
}

/** The flags and positional arguments of an operation's command, derived from its spec. */
export function cliParameters(operation: AnyOperation): {
  positionals: CliPositional[];
  flags: CliFlag[];
} {
  const { properties, required } = inputSchema(operation);
  const positionalParams = operation.cli.positionals ?? [];
  const custom = operation.cli.custom ?? [];
  // Before the words of a command, an argument cannot be left out: they would fill it.
  const takesCommand = positionalParams.includes("command");
  const positionals = positionalParams.map((param): CliPositional => {
    const property = properties[param];
    if (property === undefined) throw new Error(`${operation.name}: no parameter ${param}`);
    const syntax =
      param === "command"
        ? "[command...]"
        : required.includes(param) || takesCommand
          ? `<${kebab(param)}>`
          : `[${kebab(param)}]`;
    const description =
      param === "command"
        ? `${property.description ?? ""} Give it after --: one word is a shell command line, several are an argv.`
        : `${property.description ?? ""}${syntax.startsWith("[") ? describeDefault(property.default) : ""}`;
    return { param, syntax, description, defaultValue: property.default };
  });
  const flags = Object.entries(properties)
    .filter(([param]) => !positionalParams.includes(param) && !custom.includes(param))
    .map(([param, property]): CliFlag => {
      const kind = kindOf(operation, param, property);
      const long =
        operation.cli.flags?.[param] ?? (kind === "negated" ? `--no-${kebab(param)}` : `--${kebab(param)}`);
      const repeatable = kind === "list" || kind === "pairs" ? " (repeatable)" : "";
      return {
        param,
        kind,
        long,
        flags: `${long}${placeholder(kind, property)}`,
        description:
          kind === "negated"
            ? `Turns off: ${property.description ?? param} (on by default)`
            : `${property.description ?? ""}${repeatable}${describeDefault(property.default)}`,
        required: required.includes(param),
        defaultValue: property.default,
      };
    });
  return { positionals, flags };
}
