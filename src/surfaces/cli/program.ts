import { Command, CommanderError } from "commander";
import { DEFAULT_PROFILE, PROFILES } from "../../api/profiles.js";
import { packageVersion } from "../../platform/package-info.js";
import { PyroError } from "../../errors/index.js";
import { loadSpec } from "../../api/specs/modules.js";
import { addExample, addGroupExamples, addOperationCommand } from "./commands.js";
import { addDemoCommands } from "./demo/command.js";
import { loadCliManifest, type CliCommandEntry } from "./manifest.js";
import { reportError, type Invoke } from "./output.js";
import type { SandboxStore } from "../../api/store.js";

const SUGGESTED_PATH = `
Example: from zero to a connected chat host
  1. pyro doctor                          check KVM, QEMU and the environment cache
  2. pyro env list                        see the catalog
  3. pyro env pull debian:12              install the default environment (or: pyro env build)
  4. pyro run debian:12 -- git --version  run a command in a fresh microVM
  5. pyro demo --network                  one VM's whole life, with DNS and an HTTP fetch
  6. pyro mcp serve                       serve the tools to an MCP client over stdio

Connect a chat host (each command starts \`pyro mcp serve\` for it):
  Claude Code: claude mcp add pyro -- npx -y pyro-mcp mcp serve
  Codex:       codex mcp add pyro -- npx -y pyro-mcp mcp serve
  OpenCode:    {"mcp":{"pyro":{"type":"local","enabled":true,"command":["npx","-y","pyro-mcp","mcp","serve"]}}}
  More (Claude Desktop, Cursor, any MCP client): examples/ in the pyro-mcp repository.

Every command's --help ends with an example.
`;

/** Top-level commands in the order `pyro --help` lists them. */
const TOP_LEVEL_ORDER = ["doctor", "env", "run", "demo", "vm", "workspace"];

/** `pyro mcp serve`: the one command that is not an operation. */
function addMcpServe(program: Command, setExit: (code: number) => void): void {
  const mcp = program.command("mcp").description("Model Context Protocol server");
  const serve = mcp
    .command("serve")
    .description(`Serve pyro's tools over stdio (profiles: ${PROFILES.join(", ")})`)
    .option("--profile <profile>", "tool profile", DEFAULT_PROFILE)
    .option(
      "--allow-host-path <dir>",
      "let tools read and write host paths under DIR too (repeatable; default: only the current directory)",
      (dir: string, dirs: string[] | undefined) => [...(dirs ?? []), dir],
    )
    .action(async (flags: { profile: string; allowHostPath?: string[] }) => {
      const profile = PROFILES.find((candidate) => candidate === flags.profile);
      if (profile === undefined) {
        const error = new PyroError("INVALID_ARGUMENT", `unknown profile "${flags.profile}"`, {
          hint: `Use one of: ${PROFILES.join(", ")}.`,
        });
        setExit(reportError(error, false));
        return;
      }
      const { serveStdio } = await import("../mcp/server.js");
      await serveStdio(profile, { allowHostPaths: flags.allowHostPath ?? [] });
    });
  addExample(
    serve,
    "pyro mcp serve --profile workspace-full --allow-host-path ~/src   # what a chat host starts",
  );
}

/**
 * Builds the `pyro` command tree from the operation table; `setExit` records the exit code of
 * the chosen command, `invoke` runs an operation (the CLI's store is in it).
 */
export function buildProgram(
  setExit: (code: number) => void,
  invoke: Invoke,
  manifest: readonly CliCommandEntry[],
): Command {
  const program = new Command("pyro")
    .description("Disposable Linux microVMs for coding agents")
    .version(packageVersion(), "-V, --version")
    .showSuggestionAfterError()
    .exitOverride()
    .addHelpText("after", SUGGESTED_PATH);
  const first = (entry: CliCommandEntry): number => TOP_LEVEL_ORDER.indexOf(entry.words[0] ?? "");
  const ordered = [...manifest].sort((a, b) => first(a) - first(b));
  for (const entry of ordered) addOperationCommand(program, entry, invoke, setExit);
  addDemoCommands(program, invoke, setExit);
  addMcpServe(program, setExit);
  addGroupExamples(program);
  return program;
}

/**
 * The commands a command line needs: the operation it names (its words lead the arguments), or
 * every command when it names none (help, a group, a typo that wants suggestions).
 */
export function commandsFor(
  argv: readonly string[],
  manifest: readonly CliCommandEntry[],
): CliCommandEntry[] {
  const args = argv.slice(2);
  const named = manifest.filter((entry) => entry.words.every((word, index) => args[index] === word));
  return named.length === 1 ? named : [...manifest];
}

/**
 * Starts loading what running `entry` will need (its spec and handler, the invoker and the store)
 * while commander parses the command line, so the file reads overlap instead of queueing one
 * import after another. Only a head start: a failure here shows up again where the module is used.
 */
function prefetch(entry: CliCommandEntry): void {
  void Promise.all([
    import("../../api/invoke.js"),
    import("../../api/store.js"),
    loadSpec(entry.module, entry.name).then((operation) => operation?.loadHandler()),
  ]).catch(() => undefined);
}

/** Runs the CLI; resolves to the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  let exitCode = 0;
  // One store for the whole process: every operation of this command works on it. Built when an
  // operation runs, so help and usage errors never load the sandbox code.
  let store: SandboxStore | undefined;
  const invoke: Invoke = async (operation, input, context) => {
    const [{ invokeOperation }, { SandboxStore }] = await Promise.all([
      import("../../api/invoke.js"),
      import("../../api/store.js"),
    ]);
    store ??= new SandboxStore();
    return invokeOperation(operation, input, { ...context, store });
  };
  const setExit = (code: number): void => {
    exitCode = code;
  };
  const commands = commandsFor(argv, await loadCliManifest());
  if (commands.length === 1 && commands[0] !== undefined) prefetch(commands[0]);
  const program = buildProgram(setExit, invoke, commands);
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
