import { describe, expect, it } from "vitest";
import { OutputRing } from "../../src/runtime/output-ring.js";

const text = (ring: OutputRing, cursor: number, max = 100): string =>
  ring.read(cursor, max).data.toString("latin1");

describe("OutputRing", () => {
  it("keeps the last bytes at stable absolute offsets and reports what a cursor missed", () => {
    const ring = new OutputRing(8);
    ring.append(Buffer.from("abcdef"));
    expect(text(ring, 0)).toBe("abcdef");
    ring.append(Buffer.from("ghij"));
    expect([ring.start, ring.end]).toEqual([2, 10]);
    expect(text(ring, 0)).toBe("cdefghij");
    expect(ring.read(0, 100).dropped).toBe(2);
    expect(text(ring, 7, 2)).toBe("hi");
    expect(ring.read(7, 2).next).toBe(9);
    expect(text(ring, 10)).toBe("");
  });

  it("keeps only the tail of a chunk larger than its capacity", () => {
    const ring = new OutputRing(4);
    ring.append(Buffer.from("xy"));
    ring.append(Buffer.from("0123456789"));
    expect([ring.start, ring.end]).toEqual([8, 12]);
    expect(text(ring, 0)).toBe("6789");
  });

  it("wraps correctly across many small appends", () => {
    const ring = new OutputRing(5);
    let all = "";
    for (let i = 0; i < 23; i++) {
      const piece = String.fromCharCode(97 + (i % 26)).repeat((i % 3) + 1);
      ring.append(Buffer.from(piece));
      all += piece;
      expect(text(ring, ring.start)).toBe(all.slice(-5));
    }
  });

  it("holds memory to its capacity against a flood of empty and one-byte chunks", () => {
    const ring = new OutputRing(1024);
    const before = process.memoryUsage().heapUsed;
    // Fresh objects, as frames arrive from the channel.
    for (let i = 0; i < 1_000_000; i++) ring.append(Buffer.alloc(0));
    for (let i = 0; i < 100_000; i++) ring.append(Buffer.from("z"));
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(32 * 1024 * 1024);
    expect(ring.end).toBe(100_000);
    expect(text(ring, 0, 2000)).toBe("z".repeat(1024));
  });
});
