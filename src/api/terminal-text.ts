/**
 * Guest-supplied text (file names, link targets, kernel release, error messages quoting a path)
 * printed on the user's terminal must not act on it: an escape sequence in a file name could
 * retitle the window, clear the screen or forge lines. Control characters — C0, DEL and C1 —
 * are shown as `\xHH` instead. File contents and command output stay raw: asking for them is
 * asking for their bytes, as with `cat`.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/g;
// eslint-disable-next-line no-control-regex -- as above
const CONTROLS_BUT_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

const hex = (char: string): string => `\\x${char.charCodeAt(0).toString(16).padStart(2, "0")}`;

/** One line of text (a name, a value): every control character escaped, newlines and tabs included. */
export function printableLine(text: string): string {
  return text.replace(CONTROLS, hex);
}

/** Text of several lines (a message): control characters escaped, newlines and tabs kept. */
export function printableText(text: string): string {
  return text.replace(CONTROLS_BUT_LINES, hex);
}
