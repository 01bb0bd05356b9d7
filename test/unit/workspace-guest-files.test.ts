import { describe, expect, it } from "vitest";
import type { ExecOutcome } from "../../src/sandbox/vm-exec.js";
import { listFiles, readFile } from "../../src/sandbox/workspace/guest-files.js";
import type { GuestRunner } from "../../src/sandbox/workspace/guest-runner.js";

/** A guest that streams `chunks` to stdout and exits with `exitCode`, whatever it was asked. */
function fakeGuest(chunks: Buffer[], exitCode = 0, stderr = ""): GuestRunner {
  return async (_argv, options = {}) => {
    for (const chunk of chunks) await options.onStdout?.(chunk);
    const outcome: ExecOutcome = {
      exit_code: exitCode,
      signal: null,
      timed_out: false,
      duration_ms: 1,
      stdout: "",
      stderr,
      stdout_bytes: 0,
      stderr_bytes: stderr.length,
      stdout_truncated: false,
      stderr_truncated: false,
    };
    return outcome;
  };
}

const record = (...fields: string[]): Buffer => Buffer.from(fields.map((field) => `${field}\0`).join(""));

describe("guest file operations against untrusted output", () => {
  it("parses a listing split at odd places", async () => {
    const bytes = Buffer.concat([
      record("f", "3", "644", "1700000000.5", "", "a\nb"),
      record("l", "4", "777", "0", "/etc", "x"),
    ]);
    const listing = await listFiles(fakeGuest([bytes.subarray(0, 7), bytes.subarray(7)]), "dir");
    expect(listing.entries).toEqual([
      { path: "dir/a\nb", type: "file", size: 3, mode: "0644", mtime: "2023-11-14T22:13:20.500Z" },
      {
        path: "dir/x",
        type: "symlink",
        size: 4,
        mode: "0777",
        mtime: "1970-01-01T00:00:00.000Z",
        link_target: "/etc",
      },
    ]);
  });

  it("refuses a listing cut inside an entry or holding garbage", async () => {
    await expect(listFiles(fakeGuest([record("f", "3", "644")]), ".")).rejects.toMatchObject({
      code: "EXEC_FAILED",
    });
    await expect(listFiles(fakeGuest([record("f", "-1", "644", "0", "", "a")]), ".")).rejects.toMatchObject({
      code: "EXEC_FAILED",
    });
    await expect(listFiles(fakeGuest([Buffer.alloc(70_000, 0x61)]), ".")).rejects.toMatchObject({
      code: "EXEC_FAILED",
    });
  });

  it("keeps a bounded number of records against a flood of empty ones", async () => {
    const nuls = Buffer.alloc(60_000); // 10,000 empty records per chunk
    const flood = Array.from({ length: 300 }, () => nuls);
    const before = process.memoryUsage().heapUsed;
    // The first record is empty too, so the bounded result is a clear refusal.
    await expect(listFiles(fakeGuest(flood), ".", { limit: 5_000_000 })).rejects.toMatchObject({
      code: "EXEC_FAILED",
      message: expect.stringContaining("malformed"),
    });
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(128 * 1024 * 1024);
  }, 30_000); // a million empty fields are split before the byte charge stops the listing

  it("stops keeping records one past the limit", async () => {
    const valid = record("f", "1", "644", "0", "", "a");
    const listing = await listFiles(fakeGuest(Array.from({ length: 50 }, () => valid)), ".", { limit: 3 });
    expect(listing.entries).toHaveLength(3);
    expect(listing.truncated).toBe(true);
  });

  it("keeps no more than the cap of a read, however much the guest sends", async () => {
    const flood = fakeGuest([Buffer.from("5\n"), Buffer.alloc(1000, 0x41)]);
    const file = await readFile(flood, "f", { maxBytes: 10 });
    expect(file).toMatchObject({ size: 5, truncated: true });
    expect(file.content.length).toBe(10);
  });

  it("refuses a read without a size line", async () => {
    await expect(readFile(fakeGuest([Buffer.from("content")]), "f")).rejects.toMatchObject({
      code: "EXEC_FAILED",
    });
  });

  it("maps the scripts' exit codes and shows bounded stderr otherwise", async () => {
    await expect(readFile(fakeGuest([], 64), "f")).rejects.toMatchObject({ code: "PATH_OUTSIDE_WORKSPACE" });
    await expect(readFile(fakeGuest([], 66), "f")).rejects.toMatchObject({ code: "FILE_NOT_FOUND" });
    await expect(readFile(fakeGuest([], 67), "f")).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    const error = readFile(fakeGuest([], 1, `boom\n${"x".repeat(5000)}`), "f");
    await expect(error).rejects.toMatchObject({ code: "EXEC_FAILED" });
    await expect(error).rejects.toSatisfy(
      (e: Error) =>
        e.message.startsWith("reading /workspace/f failed (exit 1): boom x") && e.message.length < 600,
    );
  });
});
