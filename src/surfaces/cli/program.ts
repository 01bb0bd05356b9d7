import { Command, CommanderError } from "commander";
import { DEFAULT_PROFILE, PROFILES } from "../../api/profiles.js";
import type { Profile } from "../../api/types.js";
import { packageVersion } from "../../platform/package-info.js";
import { PyroError } from "../../errors/index.js";
import { registerEnv } from "./env-commands.js";
import { reportError, runForCli } from "./output.js";
import { registerRun } from "./run-command.js";
import { registerVm } from "./vm-commands.js";
import { registerWorkspace } from "./workspace-commands.js";

const SUGGESTED_PATH = `
Getting started:
  1. pyro doctor                          check KVM, QEMU and the environment cache
  2. pyro env list                        see the catalog
  3. pyro env pull debian:12              install the default environment (or: pyro env build)
  4. pyro run debian:12 -- git --version  run a command in a fresh microVM
  5. pyro mcp serve                       serve the tools to an MCP client over stdio

Chat hosts:
  Claude Code: claude mcp add pyro -- npx -y pyro-mcp mcp serve
  Codex:       codex mcp add pyro -- npx -y pyro-mcp mcp serve
  OpenCode:    {"mcp":{"pyro":{"type":"local","enabled":true,"command":["npx","-y","pyro-mcp","mcp","serve"]}}}
`;

/** Builds the `pyro` command tree; `setExit` records the process exit code of the chosen command. */
export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command("pyro")
    .description("Disposable Linux microVMs for coding agents")
    .version(packageVersion(), "-V, --version")
    .showSuggestionAfterError()
    .exitOverride()
    .addHelpText("after", SUGGESTED_PATH);

  program
    .command("doctor")
    .description("Check this host: platform, KVM (probed), backends, environments, capabilities")
    .option("--json", "print JSON")
    .action(async (flags: Record<string, unknown>) => {
      setExit(await runForCli("doctor", {}, { json: flags.json === true, scope: "doctor" }));
    });

  registerEnv(program, setExit);
  registerRun(program, setExit);
  registerVm(program, setExit);
  registerWorkspace(program, setExit);

  const mcp = program.command("mcp").description("Model Context Protocol server");
  mcp
    .command("serve")
    .description(`Serve pyro's tools over stdio (profiles: ${PROFILES.join(", ")})`)
    .option("--profile <profile>", "tool profile", DEFAULT_PROFILE)
    .option(
      "--allow-host-path <dir>",
      "let tools read and write host paths under DIR too (repeatable; default: only the current directory)",
      (dir: string, dirs: string[] | undefined) => [...(dirs ?? []), dir],
    )
    .action(async (flags: { profile: string; allowHostPath?: string[] }) => {
      if (!PROFILES.includes(flags.profile as Profile)) {
        const error = new PyroError("INVALID_ARGUMENT", `unknown profile "${flags.profile}"`, {
          hint: `Use one of: ${PROFILES.join(", ")}.`,
        });
        setExit(reportError(error, false));
        return;
      }
      const { serveStdio } = await import("../mcp/server.js");
      await serveStdio(flags.profile as Profile, { allowHostPaths: flags.allowHostPath ?? [] });
    });
  return program;
}

/** Runs the CLI; resolves to the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  let exitCode = 0;
  const program = buildProgram((code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are successes; usage errors are INVALID_ARGUMENT.
      if (error.exitCode === 0) return 0;
      return 64;
    }
    return reportError(error, argv.includes("--json"));
  }
  return exitCode;
}
