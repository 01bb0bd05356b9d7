import xtermHeadless from "@xterm/headless";
import type { IBuffer, Terminal as XtermTerminal } from "@xterm/headless";

// The package is CommonJS whose exports Node cannot name statically, so it is reached through its default export.
const { Terminal } = xtermHeadless;

export interface PlainRenderOptions {
  cols: number;
  rows: number;
}

/**
 * Input is played in slices of about this size, ending at a line feed; after each slice the lines that scrolled off
 * the screen are turned into text and dropped from the emulator, which would otherwise hold ~2 KB per line.
 */
const SLICE_SIZE = 16 * 1024;
const LF = 0x0a;
/** ED 3: erase the scrollback, leaving the screen as it is. */
const ERASE_SCROLLBACK = "\x1b[3J";

/**
 * Renders a chunk of terminal output (as read from a shell between two cursors) into plain text.
 *
 * The chunk is played into a fresh headless xterm of the shell's size, so colours and other escape sequences
 * disappear and carriage-return overwrite, backspace, cursor movement and erasing are applied the way a terminal
 * applies them. The result is every line from the top of the scrollback to the last non-empty line, right-trimmed,
 * with soft-wrapped lines joined back into one. When a full-screen program (alternate screen) is still showing at
 * the end of the chunk, its screen follows the normal buffer's text; one that already exited left nothing behind,
 * as on a real terminal.
 */
export async function renderPlain(chunk: Buffer | string, options: PlainRenderOptions): Promise<string> {
  const { cols, rows } = options;
  if (!Number.isInteger(cols) || cols < 1 || !Number.isInteger(rows) || rows < 1) {
    throw new RangeError(`terminal size must be positive integers, got ${cols}x${rows}`);
  }
  if (chunk.length === 0) return "";
  const slices = sliceAtLineFeeds(chunk);
  // A new line needs at least one byte of input (or `cols` printed cells), so no slice scrolls off more lines than
  // it is long: a scrollback that size loses nothing between two harvests.
  const scrollback = Math.max(...slices.map((slice) => slice.length));
  const terminal = new Terminal({ cols, rows, scrollback, allowProposedApi: true, logLevel: "off" });
  const history: string[] = [];
  let harvesting = false;
  // A program's own ED 3 (as sent by `clear`) also erases the lines already harvested.
  terminal.parser.registerCsiHandler({ final: "J" }, (params) => {
    if (params[0] === 3 && !harvesting && terminal.buffer.active.type === "normal") history.length = 0;
    return false;
  });
  try {
    for (const slice of slices) {
      await write(terminal, slice);
      const buffer = terminal.buffer.active;
      const scrolledOff = buffer.length - rows;
      if (buffer.type === "normal" && scrolledOff > 0) {
        appendLines(history, buffer, 0, scrolledOff);
        harvesting = true;
        await write(terminal, ERASE_SCROLLBACK);
        harvesting = false;
      }
    }
    const { normal, active } = terminal.buffer;
    const screens = [plainText(appendLines(history, normal, 0, normal.length))];
    if (active.type === "alternate") screens.push(plainText(appendLines([], active, 0, active.length)));
    return screens.filter((text) => text !== "").join("\n");
  } finally {
    terminal.dispose();
  }
}

/** Splits the chunk into slices of at least SLICE_SIZE that end just after a line feed (the last one ends anywhere). */
function sliceAtLineFeeds(chunk: Buffer | string): (Buffer | string)[] {
  const slices: (Buffer | string)[] = [];
  let start = 0;
  while (start < chunk.length) {
    const lf =
      typeof chunk === "string"
        ? chunk.indexOf("\n", start + SLICE_SIZE)
        : chunk.indexOf(LF, start + SLICE_SIZE);
    const end = lf === -1 ? chunk.length : lf + 1;
    slices.push(chunk.slice(start, end));
    start = end;
  }
  return slices;
}

function write(terminal: XtermTerminal, data: Buffer | string): Promise<void> {
  return new Promise((resolve) => terminal.write(data, resolve));
}

/** Appends rows [from, to) of the buffer as lines, joining a soft-wrapped row onto the line it continues. */
function appendLines(lines: string[], buffer: IBuffer, from: number, to: number): string[] {
  for (let y = from; y < to; y++) {
    const line = buffer.getLine(y);
    if (line === undefined) break;
    // Trimming drops only untouched cells, so a space written just before a soft wrap survives the join.
    const text = line.translateToString(true);
    if (line.isWrapped && lines.length > 0) lines[lines.length - 1] += text;
    else lines.push(text);
  }
  return lines;
}

/** Right-trims each line and drops the empty lines at the end. */
function plainText(lines: string[]): string {
  const trimmed = lines.map((text) => text.replace(/ +$/, ""));
  while (trimmed.length > 0 && trimmed[trimmed.length - 1] === "") trimmed.pop();
  return trimmed.join("\n");
}
