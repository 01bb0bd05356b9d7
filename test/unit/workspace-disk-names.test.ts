import { describe, expect, it } from "vitest";
import { diskNameBytes, escapeDiskName } from "../../src/ext4/names.js";
import { unescapeDebugfs } from "../../src/ext4/debugfs.js";

describe("names from a workspace disk", () => {
  it.each([
    [Buffer.from("plain.txt"), "plain.txt"],
    [Buffer.from("nl\nx"), "nl\\x0ax"],
    [Buffer.from("ctl\x01\x1b[31m"), "ctl\\x01\\x1b[31m"],
    [Buffer.from([0x62, 0xff, 0xc3]), "b\\xff\\xc3"],
    [Buffer.from("back\\x0a"), "back\\x5cx0a"],
    [Buffer.from("ünï©ode"), "ünï©ode"],
    [Buffer.from("a/b"), "a\\x2fb"],
    [Buffer.from("del\x7f\u0085\u2028"), "del\\x7f\\xc2\\x85\\xe2\\x80\\xa8"],
    [Buffer.from([0xed, 0xa0, 0x80]), "\\xed\\xa0\\x80"],
  ])("shows %j as %j and reads it back to the same bytes", (bytes, shown) => {
    expect(escapeDiskName(bytes)).toBe(shown);
    expect(diskNameBytes(shown).equals(bytes)).toBe(true);
  });

  it("keeps slashes of a whole path when asked", () => {
    expect(escapeDiskName(Buffer.from("/etc/shadow"), true)).toBe("/etc/shadow");
  });

  it("decodes debugfs's own escapes byte for byte", () => {
    expect(
      unescapeDebugfs("nl\\x0ax\\x5c\\xff").equals(Buffer.from([0x6e, 0x6c, 0x0a, 0x78, 0x5c, 0xff])),
    ).toBe(true);
  });
});
