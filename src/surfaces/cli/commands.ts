import type { Command } from "commander";
import { Option } from "commander";
import { loadSpec } from "../../api/specs/modules.js";
import { PyroError } from "../../errors/index.js";
import { commandFromArgs } from "./command-args.js";
import { CLI_EXTRAS, type Flags } from "./extras.js";
import { flagValue, parserFor } from "./flag-values.js";
import { callForCli, printJson, type Invoke } from "./output.js";
import type { CliCommandEntry } from "./manifest.js";

/** Descriptions of the command groups (the words before an operation's own). */
const GROUPS: Readonly<Record<string, string>> = {
  env: "List, inspect, build, pull and prune environments",
  vm: "Create, start, exec in, stop and delete VMs one step at a time",
  workspace: "Persistent workspaces: create, edit, exec, diff, snapshot, reset, export",
  "workspace sync": "Copy host files into a workspace",
  "workspace file": "List, read and write files of /workspace",
  "workspace patch": "Apply unified diffs to /workspace",
  "workspace snapshot": "Named snapshots of /workspace",
  "workspace shell": "Persistent interactive shells (PTY) in a workspace",
  "workspace service": "Long-running services in a workspace",
  "workspace disk": "Inspect a stopped workspace's disk without booting it",
};

/** The example each generated command shows under its help; group commands list their children's. */
export const COMMAND_EXAMPLES = new WeakMap<Command, string>();

/** Adds "Example:" to a command's help. */
export function addExample(command: Command, example: string): void {
  COMMAND_EXAMPLES.set(command, example);
  command.addHelpText("after", `\nExample:\n  ${example}\n`);
}

/** The examples of every command below `command`, in the order they were added. */
function examplesUnder(command: Command): string[] {
  return command.commands.flatMap((child) => {
    const own = COMMAND_EXAMPLES.get(child);
    return own !== undefined ? [own] : examplesUnder(child);
  });
}

/** Gives every group command below `program` an "Examples:" section made of its commands' examples. */
export function addGroupExamples(program: Command): void {
  for (const command of program.commands) {
    if (COMMAND_EXAMPLES.has(command)) continue;
    command.addHelpText(
      "after",
      () =>
        `\nExamples:\n${examplesUnder(command)
          .map((example) => `  ${example}`)
          .join("\n")}\n`,
    );
    addGroupExamples(command);
  }
}

/** The command for `words` under `program`, creating group commands on the way. */
function commandAt(program: Command, words: readonly string[]): Command {
  let current = program;
  words.forEach((word, index) => {
    const existing = current.commands.find((command) => command.name() === word);
    if (existing !== undefined) {
      current = existing;
      return;
    }
    current = current.command(word);
    const group = GROUPS[words.slice(0, index + 1).join(" ")];
    if (group !== undefined) current.description(group);
  });
  return current;
}

/**
 * Adds the command of one operation, generated from its spec (through the manifest): words,
 * positional arguments and flags (names, types, help text and defaults) come from its schema.
 * The spec itself, and its handler, are loaded only when the command runs.
 */
export function addOperationCommand(
  program: Command,
  entry: CliCommandEntry,
  invoke: Invoke,
  setExit: (code: number) => void,
): void {
  const { positionals, flags, scope } = entry;
  const extra = CLI_EXTRAS.get(entry.name) ?? {};
  const command = commandAt(program, entry.words).description(entry.summary);
  addExample(command, entry.example);
  for (const positional of positionals) command.argument(positional.syntax, positional.description);
  // Each flag's commander attribute maps straight to its parameter: no case conversion.
  const options = flags.map((flag) => {
    const option = new Option(flag.flags, flag.description);
    const parser = parserFor(flag);
    if (parser !== undefined) option.argParser(parser);
    if (flag.required) option.makeOptionMandatory();
    command.addOption(option);
    return { flag, attribute: option.attributeName() };
  });
  for (const option of extra.options ?? []) command.option(option.flags, option.description);
  command.option("--json", "print the result as JSON");
  command.action(async (...args: unknown[]) => {
    const values = command.opts<Flags>();
    const json = values.json === true;
    const input: Record<string, unknown> = {};
    positionals.forEach((positional, index) => {
      const given = args[index];
      const value =
        positional.param === "command"
          ? commandFromArgs(Array.isArray(given) ? given.map(String) : [])
          : given;
      if (value !== undefined) input[positional.param] = value;
    });
    for (const { flag, attribute } of options) {
      const value = flagValue(flag, values[attribute]);
      if (value !== undefined) input[flag.param] = value;
    }
    await extra.fill?.(values, input);
    const operation = await loadSpec(entry.module, entry.name);
    if (operation === undefined)
      throw new PyroError("INTERNAL", `no operation ${entry.name} in ${entry.module}`);
    const call = (context = {}) => callForCli(invoke, operation, input, { json, scope, context });
    const shown = await extra.show?.(call, values, input);
    if (shown !== undefined) return setExit(shown);
    const outcome = await call();
    if (!outcome.ok) return setExit(outcome.exitCode);
    if (json) printJson(outcome.output);
    else process.stdout.write(`${operation.render(outcome.output)}\n`);
    setExit(0);
  });
}
