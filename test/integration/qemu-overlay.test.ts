import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { qemuBackend } from "../../src/machine/qemu/backend.js";

describe("the QEMU backend's disk overlay", () => {
  const dir = mkdtempSync("/tmp/pyro-overlay-");
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("backs each VM's qcow2 with its own hard link of the root image, which outlives the cache entry", async () => {
    const cached = join(dir, "rootfs.ext4");
    writeFileSync(cached, Buffer.alloc(1024 * 1024, 7));
    const vm = join(dir, "vm");
    execFileSync("mkdir", ["-p", vm]);
    const files = {
      agentSocket: join(vm, "a.sock"),
      consoleLog: join(vm, "c.log"),
      overlay: join(vm, "disk.qcow2"),
      scratch: vm,
    };
    await qemuBackend.prepare({
      id: "overlaytest",
      vcpuCount: 1,
      memMib: 128,
      boot: { kernel: "/nonexistent", initramfs: "/nonexistent", rootfs: cached },
      agentBinary: "/nonexistent",
      files,
      accel: "tcg",
      network: null,
    });
    const base = join(vm, "base.ext4");
    expect(statSync(base).ino).toBe(statSync(cached).ino);
    const info = JSON.parse(
      execFileSync("qemu-img", ["info", "--output=json", files.overlay]).toString(),
    ) as Record<string, unknown>;
    expect(info["backing-filename"]).toBe(base);
    rmSync(cached); // a rebuild or prune of the environment
    execFileSync("qemu-img", ["check", "-q", files.overlay]);
    expect(statSync(base).size).toBe(1024 * 1024);
  });
});
