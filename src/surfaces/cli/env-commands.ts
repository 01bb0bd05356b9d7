import type { Command } from "commander";
import { runForCli, type Flags } from "./output.js";

/** `pyro env …`: the environment catalog and cache. */
export function registerEnv(program: Command, setExit: (code: number) => void): void {
  const env = program.command("env").description("List, inspect, build, pull and prune environments");

  env
    .command("list")
    .description("List the catalog and what is installed")
    .option("--json", "print JSON")
    .action(async (flags: Flags) =>
      setExit(await runForCli("vm_list_environments", {}, { json: flags.json === true, scope: "env" })),
    );

  env
    .command("inspect")
    .description("Show an environment's details")
    .argument("<name>", "environment name")
    .option("--json", "print JSON")
    .action(async (name: string, flags: Flags) =>
      setExit(
        await runForCli("env_inspect", { environment: name }, { json: flags.json === true, scope: "env" }),
      ),
    );

  for (const [verb, operation, scope, description] of [
    ["build", "env_build", "build", "Build an environment locally from Debian's archive"],
    ["pull", "env_pull", "pull", "Install an environment (builds locally in this version)"],
  ] as const) {
    env
      .command(verb)
      .description(description)
      .argument("<name>", "environment name")
      .option("--force", "rebuild even if a valid copy is installed")
      .option("--json", "print JSON")
      .action(async (name: string, flags: Flags) =>
        setExit(
          await runForCli(
            operation,
            { environment: name, force: flags.force === true },
            { json: flags.json === true, scope },
          ),
        ),
      );
  }

  env
    .command("prune")
    .description("Remove unfinished builds, other versions and corrupt entries")
    .option("--json", "print JSON")
    .action(async (flags: Flags) =>
      setExit(await runForCli("env_prune", {}, { json: flags.json === true, scope: "env" })),
    );
}
