import { describe, expect, it } from "vitest";
import { OutputCapture } from "../../src/core/output-capture.js";

describe("OutputCapture", () => {
  it("keeps the first bytes up to its limit and counts the rest", () => {
    const capture = new OutputCapture(5);
    capture.push(Buffer.from("abc"));
    capture.push(Buffer.from("defgh"));
    capture.push(Buffer.from("ij"));
    expect(capture.text()).toBe("abcde");
    expect(capture.total).toBe(10);
    expect(capture.truncated).toBe(true);
  });

  it("is not truncated when everything fits", () => {
    const capture = new OutputCapture(10);
    capture.push(Buffer.from("hello"));
    expect(capture.truncated).toBe(false);
    expect(capture.text()).toBe("hello");
  });
});
