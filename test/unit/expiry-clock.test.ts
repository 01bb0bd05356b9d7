import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { ExpiryClock, forgetKeptExpiry, readKeptExpiry } from "../../src/runtime/expiry-clock.js";

const clocks: ExpiryClock[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const clock of clocks.splice(0)) clock.stop();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function clock(idleTtlMs: number | null, fixedAtMs: number, dir: string | null = null) {
  const expired: number[] = [];
  const made = new ExpiryClock(idleTtlMs, fixedAtMs, () => expired.push(Date.now()), dir);
  clocks.push(made);
  made.start();
  return { clock: made, expired };
}

describe("ExpiryClock", () => {
  it("moves an idle deadline with activity and expires once activity stops", async () => {
    const started = Date.now();
    const { clock: idle, expired } = clock(300, 0);
    while (Date.now() - started < 900) {
      idle.touch();
      await sleep(50);
    }
    expect(expired).toEqual([]);
    const lastTouch = Date.now();
    idle.touch();
    await sleep(600);
    expect(expired).toHaveLength(1);
    expect((expired[0] as number) - lastTouch).toBeGreaterThanOrEqual(290);
  });

  it("keeps a fixed expiry whatever the activity", async () => {
    const { clock: fixed, expired } = clock(null, Date.now() + 300);
    for (let i = 0; i < 8; i++) {
      fixed.touch();
      await sleep(50);
    }
    await sleep(200);
    expect(expired).toHaveLength(1);
    expect(fixed.idleMs).toBeNull();
  });

  it("takes a new TTL from now, and keeps an idle deadline in the VM folder for views", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pyro-expiry-"));
    dirs.push(dir);
    const { clock: idle, expired } = clock(200, 0, dir);
    expect(readKeptExpiry(dir)).toBe(idle.expiresAtMs);
    idle.setTtl(60_000);
    expect(readKeptExpiry(dir)).toBe(idle.expiresAtMs);
    expect(idle.expiresAtMs).toBeGreaterThan(Date.now() + 59_000);
    await sleep(400);
    expect(expired).toEqual([]);
    idle.setTtl(100);
    await sleep(300);
    expect(expired).toHaveLength(1);
    forgetKeptExpiry(dir);
    expect(readKeptExpiry(dir)).toBeNull();
  });
});
