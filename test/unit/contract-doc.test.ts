import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { format, resolveConfig } from "prettier";
import { describe, expect, it } from "vitest";
import { contractMarkdown, profileTable } from "../helpers/contract-markdown.js";

/**
 * docs/contract.md and the profile table in docs/integrations.md are rendered from the operation
 * specs; this test fails when either is stale, and
 * `UPDATE_CONTRACT=1 npx vitest run test/unit/contract-doc.test.ts` rewrites them.
 */
const REGENERATE = "stale: run UPDATE_CONTRACT=1 npx vitest run test/unit/contract-doc.test.ts";
const CONTRACT = fileURLToPath(new URL("../../docs/contract.md", import.meta.url));
const INTEGRATIONS = fileURLToPath(new URL("../../docs/integrations.md", import.meta.url));
const BEGIN = "<!-- profiles:begin (generated from src/api/specs) -->";
const END = "<!-- profiles:end -->";

/** Formatted as `prettier --check` wants it, so the generated files pass the format check. */
const formatted = async (text: string, file: string): Promise<string> =>
  format(text, { ...(await resolveConfig(file)), filepath: file });

async function check(file: string, expected: string): Promise<void> {
  if (process.env.UPDATE_CONTRACT === "1") writeFileSync(file, expected);
  else expect(readFileSync(file, "utf8"), `${file} is ${REGENERATE}`).toBe(expected);
}

// Formatting 900 lines of Markdown takes seconds on a busy host.
describe("docs generated from the operation specs", { timeout: 60_000 }, () => {
  it("docs/contract.md lists every operation with its tool, command, method, profiles and parameters", async () => {
    await check(CONTRACT, await formatted(contractMarkdown(), CONTRACT));
  });

  it("docs/integrations.md lists the tools of each profile", async () => {
    const current = readFileSync(INTEGRATIONS, "utf8");
    const begin = current.indexOf(BEGIN);
    const end = current.indexOf(END);
    expect(begin, `${INTEGRATIONS} needs the markers ${BEGIN} … ${END}`).toBeGreaterThanOrEqual(0);
    expect(end).toBeGreaterThan(begin);
    const rendered = `${current.slice(0, begin)}${BEGIN}\n\n${profileTable()}\n\n${current.slice(end)}`;
    await check(INTEGRATIONS, await formatted(rendered, INTEGRATIONS));
  });
});
