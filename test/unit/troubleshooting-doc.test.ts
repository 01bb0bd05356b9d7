import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  ERROR_CATALOG,
  PyroError,
  troubleshootingAnchor,
  troubleshootingLink,
  type ErrorCode,
} from "../../src/errors/index.js";

const CODES = Object.keys(ERROR_CATALOG) as ErrorCode[];

/** The anchor a Markdown renderer (GitHub's rules) gives a heading: lower case, spaces to dashes, punctuation but _ and - dropped. */
const anchorOf = (heading: string): string =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");

describe("docs/troubleshooting.md", () => {
  const link = troubleshootingLink("INTERNAL");
  const file = link.slice(0, link.lastIndexOf("#"));
  const text = readFileSync(file, "utf8");
  const headings = [...text.matchAll(/^## (.+)$/gm)].map((match) => match[1] ?? "");

  it("is where every error's docs link points", () => {
    expect(existsSync(file)).toBe(true);
    for (const code of CODES) {
      expect(new PyroError(code, "x").docs).toBe(`${file}#${troubleshootingAnchor(code)}`);
    }
  });

  it("has one entry per error code, in catalog order, each anchored where its link points", () => {
    expect(headings).toEqual(CODES);
    for (const code of CODES) {
      expect(anchorOf(code), code).toBe(troubleshootingAnchor(code));
      const entry = text.slice(text.indexOf(`## ${code}\n`) + code.length + 4).split(/^## /m)[0] ?? "";
      expect(entry, `${code} says what to do`).toMatch(/^Do: /m);
    }
  });
});
