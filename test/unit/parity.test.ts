import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { buildProgram } from "../../src/surfaces/cli/program.js";
import { loadOperation } from "../../src/api/lazy.js";
import { OPERATIONS, operationsForProfile } from "../../src/api/registry.js";
import { Pyro } from "../../src/surfaces/sdk/pyro.js";

function findCommand(program: Command, words: string[]): Command | undefined {
  let current: Command | undefined = program;
  for (const word of words) current = current?.commands.find((command) => command.name() === word);
  return current;
}

describe("one operation table, three surfaces", () => {
  const program = buildProgram(() => undefined);

  it("has unique MCP names, SDK methods and CLI commands", () => {
    const unique = (values: string[]): boolean => new Set(values).size === values.length;
    expect(unique(OPERATIONS.map((op) => op.name))).toBe(true);
    expect(unique(OPERATIONS.map((op) => op.sdkMethod))).toBe(true);
    expect(unique(OPERATIONS.map((op) => op.cli.join(" ")))).toBe(true);
  });

  for (const operation of OPERATIONS) {
    describe(operation.name, () => {
      it("is a CLI command with --json", () => {
        const command = findCommand(program, operation.cli);
        expect(command, `pyro ${operation.cli.join(" ")}`).toBeDefined();
        expect(command?.options.map((option) => option.long)).toContain("--json");
      });

      it("is found by the CLI's on-demand loader", async () => {
        expect((await loadOperation(operation.name))?.name).toBe(operation.name);
      });

      it("is an SDK method", () => {
        expect(typeof (Pyro.prototype as unknown as Record<string, unknown>)[operation.sdkMethod]).toBe(
          "function",
        );
      });

      it("is an MCP tool in at least the full profile, with every parameter described", () => {
        expect(operation.profiles).toContain("workspace-full");
        const schema = z.toJSONSchema(operation.input, { io: "input" }) as {
          properties?: Record<string, { description?: string }>;
        };
        for (const [name, property] of Object.entries(schema.properties ?? {})) {
          expect(property.description, `${operation.name}.${name}`).toBeTruthy();
        }
        expect(operation.description.length).toBeGreaterThan(20);
      });
    });
  }

  it("keeps the vm-run profile to vm_run and vm_list_environments", () => {
    expect(
      operationsForProfile("vm-run")
        .map((op) => op.name)
        .sort(),
    ).toEqual(["vm_list_environments", "vm_run"]);
  });
});
