import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ERROR_CATALOG } from "../../src/errors/index.js";

/** The README's exit-code table as exit code → error codes, read from its `| exit | codes |` table. */
function readmeTable(): Map<number, string[]> {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const section = readme.slice(readme.indexOf("## Errors and exit codes"));
  const rows = new Map<number, string[]>();
  for (const line of section.split("\n")) {
    const match = /^\|\s*(\d+)\s*\|(.*)\|\s*$/.exec(line);
    if (match === null) continue;
    rows.set(
      Number(match[1]),
      [...(match[2] ?? "").matchAll(/`([A-Z_]+)`/g)].map((m) => m[1] as string),
    );
  }
  return rows;
}

describe("the README's exit-code table", () => {
  it("lists every catalog code under its exit code, and nothing else", () => {
    const expected = new Map<number, string[]>();
    for (const [code, { exit }] of Object.entries(ERROR_CATALOG)) {
      expected.set(exit, [...(expected.get(exit) ?? []), code].sort());
    }
    const listed = new Map([...readmeTable()].map(([exit, codes]) => [exit, [...codes].sort()]));
    expect(Object.fromEntries(listed)).toEqual(Object.fromEntries(expected));
  });
});
