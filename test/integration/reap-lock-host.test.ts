import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reapExpired } from "../../src/sandbox/reaper.js";
import { SandboxStore } from "../../src/sandbox/store.js";
import { createVm } from "../../src/sandbox/vm/manager.js";
import { runPyro } from "../helpers/cli.js";
import { sandboxDir, useTempPyroHome } from "../helpers/pyro-home.js";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe("reaping takes each sandbox's lock (host-compat backend)", () => {
  let home: ReturnType<typeof useTempPyroHome>;
  beforeAll(() => {
    home = useTempPyroHome();
  });
  afterAll(() => home.cleanup());

  it("never deletes an expired sandbox while a mutation holds it, from this process or another", async () => {
    const store = home.store();
    const vm = await createVm(store, {
      environment: "debian:12",
      vcpuCount: 1,
      memMib: 256,
      ttlSeconds: 1,
      networkPolicy: "off",
      allowHostCompat: true,
      backend: "host",
    });
    await sleep(1_100); // expired: a reap would delete it at once if nothing held it
    let release = (): void => undefined;
    let locked = (): void => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const mutation = store.withLock(vm.id, async () => {
      locked();
      await held;
      // Still whole at the end of the mutation: nobody deleted under it.
      return existsSync(store.files(vm.id).record);
    });
    await isLocked;

    const sameHome = new SandboxStore({ home: home.home });
    expect((await reapExpired(sameHome)).count).toBe(0);
    const cli = await runPyro(["vm", "reap-expired", "--json"], { PYRO_HOME: home.home });
    expect(cli.code).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ count: 0 });
    expect(existsSync(sandboxDir(home.home, vm.id))).toBe(true);

    release();
    expect(await mutation).toBe(true);
    const after = await reapExpired(sameHome);
    expect(after.reaped).toEqual([{ vm_id: vm.id, reason: "ttl_expired", workspace: false }]);
    expect(existsSync(sandboxDir(home.home, vm.id))).toBe(false);
  });

  it("makes a writer that waited for a sandbox removed under the lock fail as not found, not crash", async () => {
    const store = home.store();
    const vm = await createVm(store, {
      environment: "debian:12",
      vcpuCount: 1,
      memMib: 256,
      ttlSeconds: 1,
      networkPolicy: "off",
      allowHostCompat: true,
      backend: "host",
    });
    await sleep(1_100);
    // Removal (the reaper's, a delete) happens under the lock; a writer queued behind it finds nothing.
    const other = new SandboxStore({ home: home.home });
    let reaping: Promise<unknown> = Promise.resolve();
    await store.withLock(vm.id, async () => {
      reaping = other.withLock(vm.id, async () => "changed");
      await sleep(100); // the other writer is now waiting for the lock
      store.remove(vm.id);
    });
    await expect(reaping).rejects.toMatchObject({ code: "VM_NOT_FOUND" });
  });
});
