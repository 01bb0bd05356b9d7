import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { SecretMasker, maskBytes, maskDeep, maskString } from "../../src/secrets/masker.js";

const secrets = (entries: Record<string, string | Buffer>): Map<string, Buffer> =>
  new Map(Object.entries(entries).map(([name, value]) => [name, Buffer.from(value)]));

/** Pushes `input` in the given pieces and returns everything the masker emitted. */
function streamed(input: Buffer, values: Map<string, Buffer>, cuts: number[]): Buffer {
  const masker = new SecretMasker(values);
  const out: Buffer[] = [];
  let from = 0;
  for (const cut of [...cuts, input.length]) {
    out.push(masker.push(input.subarray(from, cut)));
    from = cut;
  }
  out.push(masker.flush());
  return Buffer.concat(out);
}

describe("secret masker", () => {
  it("masks a value split at every byte offset, and one byte per push", () => {
    const values = secrets({ TOKEN: "tok-3f9a-value" });
    const input = Buffer.from("before tok-3f9a-value after");
    const expected = "before [secret:TOKEN] after";
    for (let cut = 0; cut <= input.length; cut++) {
      expect(streamed(input, values, [cut]).toString()).toBe(expected);
    }
    const everyByte = [...input.keys()].slice(1);
    expect(streamed(input, values, everyByte).toString()).toBe(expected);
  });

  it("masks a multi-byte UTF-8 value cut inside a character", () => {
    const values = secrets({ KEY: "clé-秘密-🔑" });
    const input = Buffer.from("x clé-秘密-🔑 y");
    for (let cut = 0; cut <= input.length; cut++) {
      for (let second = cut; second <= input.length; second += 3) {
        expect(streamed(input, values, [cut, second]).toString()).toBe("x [secret:KEY] y");
      }
    }
  });

  it("masks overlapping values as one run and a value that is a prefix of another whole", () => {
    expect(maskString("abcdefg", secrets({ A: "abcd", B: "cdefg" }))).toBe("[secret:A,B]");
    expect(maskString("xabcdefy", secrets({ A: "abcd", B: "abcdef" }))).toBe("x[secret:B]y");
    expect(maskString("xabcdy", secrets({ A: "abcd", B: "abcdef" }))).toBe("x[secret:A]y");
    expect(maskString("abcdabcd", secrets({ A: "abcd" }))).toBe("[secret:A][secret:A]");
    expect(maskString("aaaaaaaaaa", secrets({ A: "aaaa" }))).toBe("[secret:A]");
    // A value inside a longer one: the longer one names the run.
    expect(maskString("1234567890", secrets({ INNER: "4567", OUTER: "234567890" }))).toBe("1[secret:OUTER]");
  });

  it("holds back only what could still start a value, and never more than the longest value − 1", () => {
    const masker = new SecretMasker(secrets({ T: "secret-value" }));
    expect(masker.push(Buffer.from("$ ")).toString()).toBe("$ ");
    expect(masker.push(Buffer.from("ls secret-v")).toString()).toBe("ls ");
    expect(masker.push(Buffer.from("X")).toString()).toBe("secret-vX");
    expect(masker.push(Buffer.from("secret-valu")).toString()).toBe("");
    expect(masker.flush().toString()).toBe("secret-valu");
  });

  it("masks values with or without their trailing newline, and leaves short values alone", () => {
    const values = secrets({ FILE: "from-a-file\n", PIN: "123" });
    expect(maskString("from-a-file and 123", values)).toBe("[secret:FILE] and 123");
    expect(maskString("from-a-file\nnext", values)).toBe("[secret:FILE]next");
  });

  it("drops a partial value at the end of a truncated read instead of showing it", () => {
    const values = secrets({ T: "secret-value" });
    expect(maskBytes(Buffer.from("head secret-val"), values, true).toString()).toBe("head ");
    expect(maskBytes(Buffer.from("head secret-value"), values, true).toString()).toBe("head [secret:T]");
    expect(maskBytes(Buffer.from("secret-value secret-"), values, true).toString()).toBe("[secret:T] ");
    expect(maskBytes(Buffer.from("head secret-val"), values).toString()).toBe("head secret-val");
  });

  it("masks every string of a result, and bytes", () => {
    const values = secrets({ T: "secret-value" });
    const result = maskDeep(
      {
        a: "x secret-value",
        list: [{ b: "secret-value" }],
        n: 3,
        none: null,
        buf: Buffer.from("secret-value"),
      },
      values,
    );
    expect(result).toEqual({
      a: "x [secret:T]",
      list: [{ b: "[secret:T]" }],
      n: 3,
      none: null,
      buf: Buffer.from("[secret:T]"),
    });
  });

  it("never lets a value through, whatever the chunking (random values, inputs and cuts)", () => {
    for (let round = 0; round < 300; round++) {
      const alphabet = Buffer.from("ab\xc3\xa9");
      const pick = (n: number): Buffer =>
        Buffer.from([...randomBytes(n)].map((b) => alphabet[b % 4] as number));
      const values = secrets({ A: pick(4 + (round % 5)), B: pick(4 + (round % 3)) });
      const input = Buffer.concat([
        pick(20),
        values.get("A") as Buffer,
        pick(10),
        values.get("B") as Buffer,
        pick(20),
      ]);
      const cuts = [...randomBytes(4)].map((b) => b % input.length).sort((x, y) => x - y);
      const whole = maskBytes(input, values);
      const pieces = streamed(input, values, cuts);
      expect(pieces.equals(whole)).toBe(true);
      for (const value of values.values()) expect(whole.includes(value)).toBe(false);
    }
  });

  it("does O(1) work a byte when a guest trickles near-matches of a 64 KiB value one byte at a time", () => {
    const masker = new SecretMasker(secrets({ BIG: `${"a".repeat(64 * 1024 - 1)}b` }));
    const byte = Buffer.from("a");
    const started = Date.now();
    let out = 0;
    for (let i = 0; i < 300_000; i++) out += masker.push(byte).length;
    expect(out).toBe(300_000 - (64 * 1024 - 1)); // only what could still start the value is held
    expect(masker.flush().length).toBe(64 * 1024 - 1);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("does linear work on a flood of near-matches", () => {
    const value = `${"a".repeat(4095)}b`;
    const values = secrets({ LONG: value });
    const masker = new SecretMasker(values);
    const started = Date.now();
    let out = 0;
    for (let i = 0; i < 256; i++) out += masker.push(Buffer.alloc(16 * 1024, "a")).length;
    out += masker.flush().length;
    expect(out).toBe(256 * 16 * 1024);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
