import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { consoleTail } from "../../src/sandbox/vm/status.js";

describe("the console tail quoted in boot errors", () => {
  it("keeps the last lines and turns the guest's terminal controls into ?", () => {
    const dir = mkdtempSync(join(tmpdir(), "pyro-tail-"));
    try {
      const lines = Array.from({ length: 40 }, (_, index) => `line ${index}`);
      lines.push("\u001b]0;owned\u0007\u001b[2J\u009b31mred\r\tend");
      writeFileSync(join(dir, "console.log"), `${lines.join("\n")}\n`);
      const tail = consoleTail(dir, 3);
      expect(tail).toBe("line 38\nline 39\n?]0;owned??[2J?31mred?\tend");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
