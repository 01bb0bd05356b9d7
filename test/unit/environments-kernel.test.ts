import { describe, expect, it } from "vitest";
import { elfHeaderProblem } from "../../src/environments/kernel.js";
import { insmodPaths } from "../../src/environments/modules.js";

function elfHeader(overrides: { machine?: number; shoff?: number; shnum?: number } = {}): Buffer {
  const header = Buffer.alloc(64);
  header.writeUInt32BE(0x7f454c46, 0);
  header[4] = 2; // 64-bit
  header[5] = 1; // little-endian
  header.writeUInt16LE(overrides.machine ?? 0x3e, 0x12);
  header.writeBigUInt64LE(BigInt(overrides.shoff ?? 1000), 0x28);
  header.writeUInt16LE(64, 0x3a);
  header.writeUInt16LE(overrides.shnum ?? 10, 0x3c);
  return header;
}

describe("vmlinux ELF check", () => {
  it("accepts a complete x86-64 ELF", () => {
    expect(elfHeaderProblem(elfHeader(), 1000 + 64 * 10)).toBeUndefined();
  });

  it("rejects output that is not an ELF, not x86-64, or cut short", () => {
    expect(elfHeaderProblem(Buffer.from("MZ not an elf"), 100)).toMatch(/magic/);
    expect(elfHeaderProblem(elfHeader({ machine: 0xb7 }), 2000)).toMatch(/x86-64/);
    expect(elfHeaderProblem(elfHeader(), 1000 + 64 * 10 - 1)).toMatch(/truncated/);
  });
});

describe("modprobe --show-depends parsing", () => {
  it("keeps insmod paths in order, drops builtins and module options", () => {
    const output = [
      "insmod /k/lib/modules/r/kernel/drivers/virtio/virtio_ring.ko ",
      "builtin crc32c",
      "insmod /k/lib/modules/r/kernel/drivers/virtio/virtio.ko opt=1",
      "",
    ].join("\n");
    expect(insmodPaths(output)).toEqual([
      "/k/lib/modules/r/kernel/drivers/virtio/virtio_ring.ko",
      "/k/lib/modules/r/kernel/drivers/virtio/virtio.ko",
    ]);
  });
});
