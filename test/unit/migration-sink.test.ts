import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openMigrationSink } from "../../src/machine/qemu/migration-sink.js";

const dir = mkdtempSync("/tmp/pyro-sink-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function send(uri: string, data: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(uri.replace(/^unix:/, ""), () => socket.end(data));
    socket.on("error", () => resolve());
    socket.on("close", () => resolve());
  });
}

describe("the migration sink", () => {
  it("writes one stream into a 0600 file and leaves no socket behind", async () => {
    const file = join(dir, "state");
    const sink = await openMigrationSink(file, null, 1024);
    await send(sink.uri, Buffer.from("QEVM state"));
    await expect(sink.written).resolves.toBe(10);
    sink.close(true);
    expect(readFileSync(file, "utf8")).toBe("QEVM state");
    expect(existsSync(sink.uri.replace(/^unix:/, ""))).toBe(false);
  });

  it("accepts exactly one peer, and keeps nothing of a stream that outgrows its bound", async () => {
    const once = join(dir, "once");
    const first = await openMigrationSink(once, null, 1024);
    const held = connect(first.uri.replace(/^unix:/, ""));
    await new Promise((resolve) => held.once("connect", resolve));
    const refused = await new Promise<string>((resolve) => {
      const second = connect(first.uri.replace(/^unix:/, ""));
      second.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? ""));
      second.on("connect", () => resolve("connected"));
    });
    expect(refused).toMatch(/ECONNREFUSED|ENOENT/);
    held.end("first");
    await expect(first.written).resolves.toBe(5);
    first.close(true);

    const big = join(dir, "big");
    const sink = await openMigrationSink(big, null, 1024);
    await send(sink.uri, Buffer.alloc(4096));
    await expect(sink.written).rejects.toThrow(/exceeds 1024 bytes/);
    sink.close(false);
    expect(existsSync(big)).toBe(false);
  });
});
