import { describe, expect, it } from "vitest";
import { ERROR_CATALOG, EXIT_TIMED_OUT, PyroError, toPyroError } from "../../src/errors/index.js";

describe("error catalog", () => {
  it("gives every code a hint and an exit code outside the guest's usual range", () => {
    for (const [code, entry] of Object.entries(ERROR_CATALOG)) {
      expect(entry.hint.length, code).toBeGreaterThan(10);
      expect(entry.exit, code).toBeGreaterThanOrEqual(64);
      expect(entry.exit, code).toBeLessThan(EXIT_TIMED_OUT);
    }
  });

  it("shapes errors with code, message, hint, docs link and cause", () => {
    const cause = new Error("root");
    const error = new PyroError("VM_NOT_FOUND", "no VM abc", { cause });
    expect(error.exitCode).toBe(ERROR_CATALOG.VM_NOT_FOUND.exit);
    expect(error.hint).toBe(ERROR_CATALOG.VM_NOT_FOUND.hint);
    expect(error.cause).toBe(cause);
    expect(error.toJSON()).toEqual({
      code: "VM_NOT_FOUND",
      message: "no VM abc",
      hint: error.hint,
      docs: error.docs,
      details: {},
    });
    expect(error.docs).toMatch(/\/docs\/troubleshooting\.md#vm_not_found$/);
  });

  it("wraps foreign errors as INTERNAL without losing them", () => {
    const foreign = new TypeError("boom");
    const wrapped = toPyroError(foreign);
    expect(wrapped.code).toBe("INTERNAL");
    expect(wrapped.message).toBe("boom");
    expect(wrapped.cause).toBe(foreign);
    expect(toPyroError(wrapped)).toBe(wrapped);
  });
});
