/**
 * How names from a workspace disk are shown: printable ASCII and valid UTF-8 text as they are;
 * every other byte (control bytes, invalid UTF-8, C1 controls, line separators), the backslash and
 * a `/` inside a name as `\xHH` (`keepSlashes` for whole paths, such as a link's target). The form is one-to-one, so a shown path can be given back to
 * address the same file, and no name can pass for a different path or line.
 */
export function escapeDiskName(name: Buffer, keepSlashes = false): string {
  let shown = "";
  let index = 0;
  while (index < name.length) {
    const byte = name[index] as number;
    if (byte >= 0x20 && byte < 0x7f && byte !== 0x5c && (keepSlashes || byte !== 0x2f)) {
      shown += String.fromCharCode(byte);
      index += 1;
      continue;
    }
    const length =
      byte >= 0xc2 && byte <= 0xdf
        ? 2
        : byte >= 0xe0 && byte <= 0xef
          ? 3
          : byte >= 0xf0 && byte <= 0xf4
            ? 4
            : 0;
    const char = length === 0 ? null : utf8Char(name.subarray(index, index + length), length);
    if (char !== null) {
      shown += char;
      index += length;
      continue;
    }
    shown += `\\x${byte.toString(16).padStart(2, "0")}`;
    index += 1;
  }
  return shown;
}

const strict = new TextDecoder("utf-8", { fatal: true });

function utf8Char(bytes: Buffer, length: number): string | null {
  if (bytes.length !== length) return null;
  let char: string;
  try {
    char = strict.decode(bytes);
  } catch {
    return null;
  }
  const code = char.codePointAt(0) ?? 0;
  // C1 controls and the Unicode line and paragraph separators are shown escaped.
  return code < 0xa0 || code === 0x2028 || code === 0x2029 ? null : char;
}

/** A path component as the bytes of the name it shows (see escapeDiskName). */
export function diskNameBytes(shown: string): Buffer {
  const parts: Buffer[] = [];
  let literal = "";
  for (let index = 0; index < shown.length; index += 1) {
    const hex =
      shown[index] === "\\" && shown[index + 1] === "x"
        ? /^[0-9a-f]{2}$/i.exec(shown.slice(index + 2, index + 4))
        : null;
    if (hex === null) {
      literal += shown[index];
      continue;
    }
    parts.push(Buffer.from(literal, "utf8"), Buffer.from([parseInt(hex[0], 16)]));
    literal = "";
    index += 3;
  }
  parts.push(Buffer.from(literal, "utf8"));
  return Buffer.concat(parts);
}
