import { describe, expect, it } from "vitest";
import { cpioChunks, writeCpio, type CpioEntry } from "../../src/environments/cpio.js";

interface ParsedEntry {
  offset: number;
  name: string;
  mode: number;
  nlink: number;
  rdevMajor: number;
  rdevMinor: number;
  data: Buffer;
}

/** An independent newc reader: enough to check what the writer produced. */
function parseCpio(archive: Buffer): ParsedEntry[] {
  const entries: ParsedEntry[] = [];
  let offset = 0;
  for (;;) {
    expect(archive.toString("ascii", offset, offset + 6)).toBe("070701");
    const field = (index: number): number =>
      parseInt(archive.toString("ascii", offset + 6 + index * 8, offset + 14 + index * 8), 16);
    const nameSize = field(11);
    const fileSize = field(6);
    const name = archive.toString("utf8", offset + 110, offset + 110 + nameSize - 1);
    expect(archive[offset + 110 + nameSize - 1]).toBe(0);
    const dataStart = align4(offset + 110 + nameSize);
    const entry = {
      offset,
      name,
      mode: field(1),
      nlink: field(4),
      rdevMajor: field(9),
      rdevMinor: field(10),
      data: archive.subarray(dataStart, dataStart + fileSize),
    };
    entries.push(entry);
    offset = align4(dataStart + fileSize);
    if (name === "TRAILER!!!") break;
  }
  expect(offset).toBe(archive.length);
  return entries;
}

const align4 = (n: number): number => (n + 3) & ~3;

describe("cpio writer (newc)", () => {
  const entries: CpioEntry[] = [
    { type: "directory", path: "/pyro" },
    { type: "file", path: "pyro/modules.order", data: Buffer.from("a.ko\nb.ko\n") },
    { type: "file", path: "init", mode: 0o755, data: Buffer.from([1, 2, 3]) },
    { type: "symlink", path: "bin/sh", target: "busybox" },
    { type: "char-device", path: "dev/console", major: 5, minor: 1 },
  ];

  it("writes headers, names and data the way a newc reader reads them back", () => {
    const parsed = parseCpio(writeCpio(entries));
    expect(parsed.map((entry) => entry.name)).toEqual([
      "pyro",
      "pyro/modules.order",
      "init",
      "bin/sh",
      "dev/console",
      "TRAILER!!!",
    ]);
    const [dir, order, init, link, console] = parsed;
    expect(dir?.mode).toBe(0o040755);
    expect(dir?.nlink).toBe(2);
    expect(order?.mode).toBe(0o100644);
    expect(order?.data.toString()).toBe("a.ko\nb.ko\n");
    expect(init?.mode).toBe(0o100755);
    expect([...(init?.data ?? [])]).toEqual([1, 2, 3]);
    expect(link?.mode).toBe(0o120777);
    expect(link?.data.toString()).toBe("busybox");
    expect(console?.mode).toBe(0o020600);
    expect([console?.rdevMajor, console?.rdevMinor]).toEqual([5, 1]);
  });

  it("starts every header on a 4-byte boundary and pads the archive to one", () => {
    const archive = writeCpio(entries);
    for (const entry of parseCpio(archive)) expect(entry.offset % 4).toBe(0);
    expect(archive.length % 4).toBe(0);
  });

  it("gives each entry its own inode number", () => {
    const archive = writeCpio(entries);
    const inodes = parseCpio(archive)
      .slice(0, -1)
      .map((entry) => archive.toString("ascii", entry.offset + 6, entry.offset + 14));
    expect(new Set(inodes).size).toBe(entries.length);
  });

  it("streams the same bytes it writes whole, and concatenated archives stay readable in turn", () => {
    const whole = writeCpio(entries);
    expect(Buffer.concat([...cpioChunks(entries)])).toEqual(whole);
    const second = writeCpio([{ type: "file", path: "init", data: Buffer.from("agent") }]);
    const both = Buffer.concat([whole, second]);
    expect(parseCpio(both.subarray(whole.length))[0]?.name).toBe("init");
  });

  it("is reproducible: no timestamps unless asked", () => {
    expect(writeCpio(entries)).toEqual(writeCpio(entries));
  });

  it("rejects paths and modes it cannot represent safely", () => {
    expect(() => writeCpio([{ type: "directory", path: "a/../b" }])).toThrow(/invalid path/);
    expect(() => writeCpio([{ type: "directory", path: "/" }])).toThrow(/invalid path/);
    expect(() => writeCpio([{ type: "directory", path: "TRAILER!!!" }])).toThrow(/invalid path/);
    expect(() => writeCpio([{ type: "file", path: "x", mode: 0o100644, data: Buffer.alloc(0) }])).toThrow(
      /invalid mode/,
    );
  });
});
