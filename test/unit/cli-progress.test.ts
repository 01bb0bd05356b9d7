import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ProgressReport } from "../../src/platform/phases.js";
import { stderrPhases } from "../../src/surfaces/cli/output.js";
import { progressBar, progressFields, stderrProgress } from "../../src/surfaces/cli/progress.js";

/** A carriage return or an escape sequence: what only a live bar writes. */
const drawsBar = (text: string): boolean => text.includes("\r") || text.includes("\u001b");

const report = (done: number, total: number, cached = 0, phase = "fetch"): ProgressReport => ({
  phase,
  done_bytes: done,
  total_bytes: total,
  cached_bytes: cached,
});

describe("the progress bar's text", () => {
  it("shows the bar, bytes, rate and ETA", () => {
    expect(progressBar(report(12e6, 48e6), 2)).toBe(
      `fetch [${"#".repeat(7)}${" ".repeat(21)}] 12.0/48.0 MB 6.0 MB/s ETA 6s`,
    );
  });

  it("leaves bytes that were already cached out of the rate and the ETA", () => {
    expect(progressBar(report(30e6, 40e6, 20e6), 2)).toMatch(/ 30\.0\/40\.0 MB 5\.0 MB\/s ETA 2s$/);
  });

  it("counts a long ETA in minutes and hours", () => {
    expect(progressBar(report(1e6, 1e9), 1)).toMatch(/ETA 16m39s$/);
    expect(progressBar(report(1e6, 1e10), 1)).toMatch(/ETA 2h46m$/);
  });

  it("has no ETA when done, or before a byte has moved", () => {
    const done = progressBar(report(48e6, 48e6), 4);
    expect(done).toBe(`fetch [${"#".repeat(28)}] 48.0/48.0 MB 12.0 MB/s`);
    expect(progressBar(report(5e6, 48e6, 5e6), 1)).not.toContain("ETA");
  });

  it("without a total shows the bytes so far and the rate: no bar, no ETA", () => {
    const text = progressBar(report(5e6, 0), 1);
    expect(text).toBe("fetch 5.0 MB 5.0 MB/s");
  });

  it("gives the byte counts as fields off a terminal", () => {
    expect(progressFields(report(3_000_000, 9_000_000, 1_000_000), 2)).toBe(
      "phase=fetch done_bytes=3000000 total_bytes=9000000 cached_bytes=1000000 rate_mb_s=1.0",
    );
  });
});

describe("progress on stderr", () => {
  let written: string[];
  let tty: boolean | undefined;
  const setTty = (value: boolean): void => {
    Object.defineProperty(process.stderr, "isTTY", { value, configurable: true, writable: true });
  };

  beforeEach(() => {
    tty = process.stderr.isTTY;
    written = [];
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(0);
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
    Object.defineProperty(process.stderr, "isTTY", { value: tty, configurable: true, writable: true });
  });

  it("off a terminal writes lines about once a second and the last, never a bar", () => {
    setTty(false);
    const progress = stderrProgress("pull", false);
    progress(report(0, 100));
    vi.setSystemTime(200);
    progress(report(40, 100));
    vi.setSystemTime(1_300);
    progress(report(60, 100));
    vi.setSystemTime(1_400);
    progress(report(100, 100));
    progress(report(100, 100)); // the same report again (a producer's final one)
    expect(written).toEqual([
      "[pull] phase=fetch done_bytes=0 total_bytes=100 cached_bytes=0 rate_mb_s=0.0\n",
      "[pull] phase=fetch done_bytes=60 total_bytes=100 cached_bytes=0 rate_mb_s=0.0\n",
      "[pull] phase=fetch done_bytes=100 total_bytes=100 cached_bytes=0 rate_mb_s=0.0\n",
    ]);
    expect(drawsBar(written.join(""))).toBe(false);
  });

  it("with --json writes lines even on a terminal", () => {
    setTty(true);
    const progress = stderrProgress("pull", true);
    progress(report(0, 100));
    progress(report(100, 100));
    expect(written).toHaveLength(2);
    expect(drawsBar(written.join(""))).toBe(false);
  });

  it("on a terminal redraws one bar, ends it when done, and ends an unfinished one before the next line", () => {
    setTty(true);
    const progress = stderrProgress("pull", false);
    progress(report(0, 100e6));
    vi.setSystemTime(50);
    progress(report(10e6, 100e6)); // within 100 ms of the last draw: skipped
    vi.setSystemTime(1_000);
    progress(report(50e6, 100e6));
    expect(written).toEqual([
      `\r[pull] fetch [${" ".repeat(28)}] 0.0/100.0 MB 0.0 MB/s\u001b[K`,
      `\r[pull] fetch [${"#".repeat(14)}${" ".repeat(14)}] 50.0/100.0 MB 50.0 MB/s ETA 1s\u001b[K`,
    ]);
    stderrPhases("pull")("unpack", { environment: "debian:12" });
    expect(written.slice(2)).toEqual(["\n", "[pull] phase=unpack environment=debian:12\n"]);

    written.length = 0;
    const upload = stderrProgress("push", false);
    upload(report(100, 100, 0, "upload"));
    expect(written).toEqual([`\r[push] upload [${"#".repeat(28)}] 0.0/0.0 MB 0.1 MB/s\u001b[K`, "\n"]);
    stderrPhases("push")("manifest");
    expect(written.at(-1)).toBe("[push] phase=manifest\n");
  });
});
