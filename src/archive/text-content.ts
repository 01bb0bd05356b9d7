import { MAX_TEXT_FILE_BYTES, TEXT_SNIFF_BYTES } from "./limits.js";

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The text of a file's content if it looks like text — at most MAX_TEXT_FILE_BYTES, no NUL byte
 * in the first TEXT_SNIFF_BYTES (git's test) and valid UTF-8 throughout — otherwise null.
 */
export function textOf(content: Buffer): string | null {
  if (content.length > MAX_TEXT_FILE_BYTES) return null;
  if (content.subarray(0, TEXT_SNIFF_BYTES).includes(0)) return null;
  try {
    return strictUtf8.decode(content);
  } catch {
    return null;
  }
}
