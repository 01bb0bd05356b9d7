import { describe, expect, it } from "vitest";
import { NulFieldSplitter } from "../../src/sandbox/workspace/guest-files-nul-fields.js";

describe("NulFieldSplitter", () => {
  it("splits fields across any chunk boundary", () => {
    const stream = Buffer.from("a b\0line\nbreak\0\0tab\there\0");
    for (let cut = 0; cut <= stream.length; cut++) {
      const splitter = new NulFieldSplitter(100);
      const fields = [...splitter.push(stream.subarray(0, cut)), ...splitter.push(stream.subarray(cut))];
      expect(fields).toEqual(["a b", "line\nbreak", "", "tab\there"]);
      expect(splitter.hasPartialField).toBe(false);
    }
  });

  it("keeps a multi-byte character split between chunks intact", () => {
    const splitter = new NulFieldSplitter(100);
    const bytes = Buffer.from("é\0");
    expect([...splitter.push(bytes.subarray(0, 1)), ...splitter.push(bytes.subarray(1))]).toEqual(["é"]);
  });

  it("reports a stream that ends inside a field", () => {
    const splitter = new NulFieldSplitter(100);
    splitter.push(Buffer.from("done\0half"));
    expect(splitter.hasPartialField).toBe(true);
  });

  it("refuses a field longer than its cap", () => {
    const splitter = new NulFieldSplitter(4);
    splitter.push(Buffer.from("abc"));
    expect(() => splitter.push(Buffer.from("de"))).toThrow(/longer than 4 bytes/);
  });
});
