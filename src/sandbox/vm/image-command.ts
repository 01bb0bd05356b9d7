import { checkEnvironment, type ImageConfig } from "../../environments/index.js";
import { PyroError } from "../../errors/index.js";

/**
 * What a container started without a command runs, by Docker's rule: the image's Entrypoint
 * followed by its Cmd, as an argv. Null when the image names neither (or there is no image).
 */
export function imageDefaultCommand(image: ImageConfig | null | undefined): string[] | null {
  const argv = [...(image?.entrypoint ?? []), ...(image?.cmd ?? [])];
  return argv.length === 0 ? null : argv;
}

/**
 * The command a run without one uses: its environment's image Entrypoint + Cmd. Read from the
 * installed manifest before anything boots, so a missing one fails at once (an environment not
 * installed has none: the catalog's are not images).
 */
export async function defaultCommandOf(environment: string): Promise<string[]> {
  const state = await checkEnvironment(environment);
  const image = state.status === "installed" ? state.environment.manifest.image : null;
  const argv = imageDefaultCommand(image);
  if (argv !== null) return argv;
  throw new PyroError(
    "INVALID_ARGUMENT",
    `no command given, and ${environment} has no image Entrypoint or Cmd to run instead`,
    {
      hint: `Give the command after \`--\` (\`pyro run ${environment} -- CMD…\`; \`command\` over MCP and the SDK), or use an environment imported from an image whose config sets Entrypoint or Cmd.`,
    },
  );
}
