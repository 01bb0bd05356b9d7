import { readFileSync } from "node:fs";
import { isSpecModule, SPEC_MODULES, type SpecModule } from "../../api/specs/modules.js";
import type { AnyOperation } from "../../api/types.js";
import type { CliFlag, CliPositional } from "./parameters.js";

/**
 * Everything the CLI needs to parse a command line and print help, derived from the specs. The
 * build writes it next to the CLI (manifest.json), so start-up parses a command line without
 * loading zod or any spec; only the chosen operation's spec module is loaded to run it.
 */
export interface CliCommandEntry {
  name: string;
  module: SpecModule;
  words: readonly string[];
  scope: string;
  summary: string;
  example: string;
  positionals: CliPositional[];
  flags: CliFlag[];
}

/** A spec's first sentence: the one-line description `--help` lists. */
const summary = (description: string): string => description.split(/(?<=\.)\s/)[0] ?? description;

export async function buildCliManifest(): Promise<CliCommandEntry[]> {
  // Deriving flags needs zod's JSON Schema; a CLI started from the written manifest never loads it.
  const { cliParameters } = await import("./parameters.js");
  const entries = new Map<string, CliCommandEntry>();
  for (const module of Object.keys(SPEC_MODULES).filter(isSpecModule)) {
    const operations: readonly AnyOperation[] = await SPEC_MODULES[module]();
    for (const operation of operations) {
      const listed = entries.get(operation.name);
      // Listed again by a later module (listings, which loads no zod): it runs from there, in its place.
      if (listed !== undefined) {
        listed.module = module;
        continue;
      }
      entries.set(operation.name, {
        name: operation.name,
        module,
        words: operation.cli.words,
        scope: operation.cli.scope ?? operation.cli.words.join("-"),
        summary: summary(operation.description),
        example: operation.cli.example,
        ...cliParameters(operation),
      });
    }
  }
  return [...entries.values()];
}

const MANIFEST = new URL("./manifest.json", import.meta.url);

const isString = (value: unknown): value is string => typeof value === "string";
const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const KINDS: readonly unknown[] = ["boolean", "negated", "integer", "string", "list", "pairs"];

function isEntry(value: unknown): value is CliCommandEntry {
  if (!isRecord(value)) return false;
  const { name, module, words, scope, summary: text, example, positionals, flags } = value;
  return (
    isString(name) &&
    isString(module) &&
    isSpecModule(module) &&
    isString(scope) &&
    isString(text) &&
    isString(example) &&
    Array.isArray(words) &&
    words.every(isString) &&
    Array.isArray(positionals) &&
    positionals.every(
      (p) => isRecord(p) && isString(p.param) && isString(p.syntax) && isString(p.description),
    ) &&
    Array.isArray(flags) &&
    flags.every(
      (f) =>
        isRecord(f) &&
        [f.param, f.flags, f.long, f.description].every(isString) &&
        KINDS.includes(f.kind) &&
        typeof f.required === "boolean",
    )
  );
}

/** The manifest the build wrote; built from the specs when there is none (running from source). */
export async function loadCliManifest(): Promise<CliCommandEntry[]> {
  let text: string;
  try {
    text = readFileSync(MANIFEST, "utf8");
  } catch {
    return buildCliManifest();
  }
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed) || !parsed.every(isEntry)) {
    throw new Error(`${MANIFEST.pathname} is not a CLI manifest; rebuild with npm run build`);
  }
  return parsed;
}

/** Writes the manifest next to this module (the build's last step for the CLI). */
export async function writeCliManifest(): Promise<void> {
  const { writeFileSync } = await import("node:fs");
  writeFileSync(MANIFEST, `${JSON.stringify(await buildCliManifest())}\n`);
}
