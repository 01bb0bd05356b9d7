import { afterEach, describe, expect, it } from "vitest";
import { ARCHIVE_ENTRIES, CapBudget, capValue, EXPORT_BYTES } from "../../src/archive/caps.js";
import { PyroError } from "../../src/errors/index.js";

describe("size and count limits from the environment", () => {
  afterEach(() => {
    delete process.env.PYRO_MAX_EXPORT_BYTES;
    delete process.env.PYRO_MAX_ARCHIVE_ENTRIES;
  });

  it.each([
    ["", 4 * 1024 ** 3],
    ["1000", 1000],
    ["8G", 8 * 1024 ** 3],
    ["512m", 512 * 1024 ** 2],
    ["64KiB", 64 * 1024],
    ["2TB", 2 * 1024 ** 4],
  ])("reads PYRO_MAX_EXPORT_BYTES=%j as %d bytes", (raw, bytes) => {
    process.env.PYRO_MAX_EXPORT_BYTES = raw;
    expect(capValue(EXPORT_BYTES)).toBe(bytes);
  });

  it.each(["0", "-1", "lots", "1.5G", "99999999999999999G"])("refuses PYRO_MAX_EXPORT_BYTES=%j", (raw) => {
    process.env.PYRO_MAX_EXPORT_BYTES = raw;
    expect(() => capValue(EXPORT_BYTES)).toThrow(/PYRO_MAX_EXPORT_BYTES/);
  });

  it("takes entry counts without size suffixes", () => {
    process.env.PYRO_MAX_ARCHIVE_ENTRIES = "5k";
    expect(() => capValue(ARCHIVE_ENTRIES)).toThrow(PyroError);
    process.env.PYRO_MAX_ARCHIVE_ENTRIES = "5000";
    expect(capValue(ARCHIVE_ENTRIES)).toBe(5000);
  });

  it("is LIMIT_EXCEEDED once a running total passes the cap, naming the setting and how to raise it", () => {
    process.env.PYRO_MAX_EXPORT_BYTES = "100";
    const budget = new CapBudget(EXPORT_BYTES);
    budget.take(60);
    budget.take(40);
    const error = (() => {
      try {
        budget.take(1, "big.bin brings it past the limit");
      } catch (caught) {
        return caught as PyroError;
      }
      throw new Error("not refused");
    })();
    expect(error.code).toBe("LIMIT_EXCEEDED");
    expect(error.message).toContain("at most 100 bytes");
    expect(error.message).toContain("big.bin");
    expect(error.hint).toContain("PYRO_MAX_EXPORT_BYTES=");
    expect(error.details).toMatchObject({ limit: "PYRO_MAX_EXPORT_BYTES", value: 100 });
  });
});
