import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { buildCliManifest, type CliCommandEntry } from "../../src/surfaces/cli/manifest.js";
import { CLI_EXTRAS } from "../../src/surfaces/cli/extras.js";

/**
 * Every `pyro …` command line in the docs this checks names a real command with real options, so a
 * renamed command or flag cannot leave a doc behind. (Guest-running docs are checked by running
 * them: the README's blocks in test/guest/readme-examples.test.ts.)
 */
const DOCS = ["install", "integrations", "troubleshooting", "host-requirements", "architecture", "changelog"];

/** Commands the CLI has besides the operations: [words, their options]. */
const OWN_COMMANDS: Array<[string[], string[]]> = [
  [
    ["mcp", "serve"],
    ["--profile", "--allow-host-path"],
  ],
  [[], ["--help", "--version"]],
];

/** Command lines in shell blocks and inline code: what follows `pyro`, `pyro-mcp` or `npx [-y] pyro-mcp`. */
function commandLines(text: string): string[] {
  const fences = [...text.matchAll(/```(\w*)\n([\s\S]*?)```/g)];
  const blocks = fences
    .filter((m) => ["", "sh", "text"].includes(m[1] ?? ""))
    .flatMap((m) => (m[2] ?? "").split("\n"));
  const prose = text.replace(/```\w*\n[\s\S]*?```/g, "");
  const spans = [...prose.matchAll(/`([^`\n]+)`/g)].map((m) => m[1] ?? "");
  return [...blocks, ...spans].flatMap((line) =>
    [...line.matchAll(/(?:^|[\s($'"])(?:npx (?:-y )?pyro-mcp|pyro-mcp|pyro)(?= |$)/g)]
      .map((m) => line.slice((m.index ?? 0) + m[0].length))
      // The command ends at a comment, a pipe, a list operator or a closing quote.
      .map((rest) => (rest.split(/\s(?:#|\||&&)\s|[;)'"`]/)[0] ?? "").replace(/[[\]]/g, "").trim())
      .filter((command) => !command.startsWith("--") && !command.startsWith("-y")),
  );
}

describe("commands in the docs", async () => {
  const manifest: CliCommandEntry[] = await buildCliManifest();
  const known: Array<[string[], string[]]> = [
    ...manifest.map((entry): [string[], string[]] => [
      [...entry.words],
      [
        ...entry.flags.map((flag) => flag.long),
        ...(CLI_EXTRAS.get(entry.name)?.options ?? []).map((option) => option.flags.split(" ")[0] ?? ""),
        "--json",
        "--help",
      ],
    ]),
    ...OWN_COMMANDS,
  ];
  const groups = new Set(
    manifest.flatMap((entry) =>
      entry.words.slice(0, -1).map((_, i) => entry.words.slice(0, i + 1).join(" ")),
    ),
  );

  it.each(DOCS)("docs/%s.md names only real commands and options", (doc) => {
    const text = readFileSync(new URL(`../../docs/${doc}.md`, import.meta.url), "utf8");
    const lines = commandLines(text);
    if (process.env.SHOW_DOC_COMMANDS === "1") console.log(doc, lines);
    for (const line of lines) {
      const tokens = line.split(" ").filter((token) => token !== "");
      const end = tokens.indexOf("--");
      const args = end === -1 ? tokens : tokens.slice(0, end);
      const words = args.filter((token) => /^[a-z][a-z-]*(\|[a-z-]+)*$/.test(token)).map((t) => t.split("|"));
      // The longest known command whose words open the line (each word may list alternatives a|b).
      const match = known
        .filter(([command]) => command.every((word, i) => words[i]?.includes(word) === true))
        .sort((a, b) => b[0].length - a[0].length)[0];
      const opening = words.map((alternatives) => alternatives[0]).join(" ");
      if (
        match === undefined ||
        (match[0].length === 0 && words.length > 0 && !/^[A-Z]/.test(args[0] ?? ""))
      ) {
        // A group named on its own (`pyro workspace`) is fine; anything else is not a command.
        expect(groups.has(opening) || words.length === 0, `${doc}.md: pyro ${line}`).toBe(true);
        continue;
      }
      for (const flag of args.filter((token) => token.startsWith("--"))) {
        const name = flag.split("=")[0] ?? flag;
        expect(match[1], `${doc}.md: ${name} in pyro ${line}`).toContain(name);
      }
    }
  });
});
