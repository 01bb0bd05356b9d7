import { describe, expect, it } from "vitest";
import { boundedText, GUEST_TEXT_MAX_JSON_BYTES } from "../../src/runtime/bounded-text.js";

const jsonBytes = (text: string): number => Buffer.byteLength(JSON.stringify(text));

describe("guest text kept by the supervisor", () => {
  it("is left alone when short", () => {
    expect(boundedText("EXEC_FAILED: no such file")).toBe("EXEC_FAILED: no such file");
  });

  it("stays within its JSON budget whatever the guest sends", () => {
    const hostile = [
      "x".repeat(60_000),
      "\u0001".repeat(60_000),
      '"\\'.repeat(30_000),
      "é".repeat(30_000),
      "😀".repeat(20_000),
      `${"a".repeat(GUEST_TEXT_MAX_JSON_BYTES - 3)}😀😀`,
    ];
    for (const text of hostile) {
      const kept = boundedText(text);
      expect(jsonBytes(kept)).toBeLessThanOrEqual(GUEST_TEXT_MAX_JSON_BYTES);
      expect(kept.endsWith("…")).toBe(true);
      expect(kept).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/); // no orphaned surrogate half
    }
  });

  it("turns control characters into spaces", () => {
    expect(boundedText("a\u0000b\nc\u001b[31m")).toBe("a b c [31m");
  });
});
