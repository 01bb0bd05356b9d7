import { describe, expect, it } from "vitest";
import { OutputCapture } from "../../src/sandbox/output-capture.js";

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

describe("OutputCapture against floods", () => {
  it("keeps one buffer however many chunks arrive, empty ones included", () => {
    const capture = new OutputCapture(8);
    const empty = Buffer.alloc(0);
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 1_000_000; i++) capture.push(empty);
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(32 * 1024 * 1024);
    for (let i = 0; i < 20; i++) capture.push(Buffer.from("x"));
    expect(capture.text()).toBe("xxxxxxxx");
    expect(capture.total).toBe(20);
    expect(capture.truncated).toBe(true);
  });
});
