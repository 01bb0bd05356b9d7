import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CONSOLE_LOG_MAX_BYTES, ConsoleLog } from "../../src/machine/qemu/console-log.js";
import { SecretMasker } from "../../src/secrets/masker.js";

describe("the console log", () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "pyro-console-"));
    path = join(dir, "console.log");
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("keeps at most its cap of a 20 MB flood, the newest bytes, owner-only", () => {
    const log = new ConsoleLog(path);
    const chunk = Buffer.alloc(65536, "A");
    for (let written = 0; written < 20_000_000; written += chunk.length) {
      log.write(chunk);
      expect(statSync(path).size).toBeLessThanOrEqual(CONSOLE_LOG_MAX_BYTES);
    }
    log.write(Buffer.from("\nthe last line\n"));
    log.close();
    const kept = readFileSync(path, "utf8");
    expect(kept.length).toBeGreaterThan(CONSOLE_LOG_MAX_BYTES / 2);
    expect(kept.endsWith("A\nthe last line\n")).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it("stores a workspace's secret values masked, even split across console writes", async () => {
    const source = new PassThrough();
    const log = new ConsoleLog(path);
    log.follow(source, new SecretMasker(new Map([["TOKEN", Buffer.from("hunter2-söcret")]])));
    const utf8 = Buffer.from("boot ok\nleak: hunter2-söcret\ntail hunter2-sö");
    // Split inside the secret and inside its two-byte character.
    for (const cut of [
      [0, 22],
      [22, 24],
      [24, 30],
      [30, utf8.length],
    ])
      source.write(utf8.subarray(cut[0], cut[1]));
    source.end();
    await new Promise((resolve) => source.once("close", resolve));
    expect(readFileSync(path, "utf8")).toBe("boot ok\nleak: [secret:TOKEN]\ntail hunter2-sö");
  });

  it("cuts a single oversized chunk to its newest half", () => {
    const log = new ConsoleLog(path, 1000);
    log.write(Buffer.concat([Buffer.alloc(5000, "x"), Buffer.from("END")]));
    log.close();
    const kept = readFileSync(path, "utf8");
    expect(kept.length).toBe(500);
    expect(kept.endsWith("END")).toBe(true);
  });

  it("starts empty and owner-only over a world-readable log of an earlier boot", () => {
    writeFileSync(path, "old boot\n");
    chmodSync(path, 0o644);
    const source = new PassThrough();
    new ConsoleLog(path).follow(source);
    source.end("new boot\n");
    return new Promise<void>((resolve) =>
      source.once("close", () => {
        expect(readFileSync(path, "utf8")).toBe("new boot\n");
        expect(statSync(path).mode & 0o777).toBe(0o600);
        resolve();
      }),
    );
  });
});
