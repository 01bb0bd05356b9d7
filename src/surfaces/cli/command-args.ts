/**
 * The guest command from the words after `--`: one word is a shell command line (so
 * `pyro run debian:12 -- 'ls | wc -l'` works); several words are an argv, passed as is.
 */
export function commandFromArgs(args: string[]): string | string[] | undefined {
  if (args.length === 0) return undefined;
  if (args.length === 1) return args[0];
  return args;
}
