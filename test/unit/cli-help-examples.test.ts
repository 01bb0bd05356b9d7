import type { Command } from "commander";
import { describe, expect, it, vi } from "vitest";
import { PyroError } from "../../src/errors/index.js";
import { buildCliManifest } from "../../src/surfaces/cli/manifest.js";
import { buildProgram } from "../../src/surfaces/cli/program.js";
import { OPERATIONS } from "../../src/api/specs/index.js";

const refuse = () => Promise.reject(new PyroError("INVALID_ARGUMENT", "help only"));

/** Every command of the tree, as its words. */
function walk(command: Command, words: string[] = []): Array<{ words: string[]; command: Command }> {
  return command.commands.flatMap((child) => {
    const path = [...words, child.name()];
    return [{ words: path, command: child }, ...walk(child, path)];
  });
}

/** What `pyro WORDS --help` prints (commander writes help, and the text added after it, to stdout). */
function helpOf(command: Command): string {
  let text = "";
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    text += String(chunk);
    return true;
  });
  try {
    command.outputHelp();
  } finally {
    spy.mockRestore();
  }
  return text;
}

describe("CLI help that teaches", () => {
  it("ends every command's and group's --help with an example of that command", async () => {
    const program = buildProgram(() => undefined, refuse, await buildCliManifest());
    const commands = walk(program);
    expect(commands.length).toBeGreaterThan(OPERATIONS.length);
    for (const { words, command } of commands) {
      const help = helpOf(command);
      expect(help, `pyro ${words.join(" ")} --help`).toMatch(/\nExamples?:\n/);
      const examples = help.slice(help.search(/\nExamples?:\n/));
      // Each example names its own command (a group's lists its commands'), so none is copied by mistake.
      expect(examples, `pyro ${words.join(" ")} --help`).toContain(`pyro ${words.join(" ")}`);
    }
  });

  it("gives every operation spec an example that runs its own command", () => {
    for (const operation of OPERATIONS) {
      expect(operation.cli.example, operation.name).toContain(`pyro ${operation.cli.words.join(" ")}`);
    }
  });

  it("shows the zero-to-hero path and the chat-host one-liners in pyro --help", async () => {
    const program = buildProgram(() => undefined, refuse, await buildCliManifest());
    const help = helpOf(program);
    const steps = ["pyro doctor", "pyro env list", "pyro env pull", "pyro run", "pyro mcp serve"];
    const positions = steps.map((step) => help.indexOf(step));
    expect(positions.every((position) => position > 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(help).toContain("claude mcp add pyro -- npx -y pyro-mcp mcp serve");
    expect(help).toContain("codex mcp add pyro -- npx -y pyro-mcp mcp serve");
    expect(help).toContain("Example");
  });
});
