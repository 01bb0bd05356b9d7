import { formatPatch, structuredPatch, type StructuredPatch, type StructuredPatchHunk } from "diff";

/** One side of a changed file in a patch; absent on the side where the file does not exist. */
export interface PatchSide {
  mode: number;
  text: string;
}

const CONTEXT_LINES = 3;
// Beyond this many changed lines a minimal diff gets slow; the file is shown replaced whole instead.
const MAX_EDIT_LINES = 1000;

/** Git's file mode for a regular file: only the executable bit is recorded, as git does. */
export function gitFileMode(mode: number): string {
  return (mode & 0o111) === 0 ? "100644" : "100755";
}

/** A git-style unified diff of one text file (added when `before` is absent, deleted when `after` is). */
export function textPatch(path: string, before: PatchSide | undefined, after: PatchSide | undefined): string {
  const oldText = before?.text ?? "";
  const newText = after?.text ?? "";
  const computed = structuredPatch("a", "b", oldText, newText, undefined, undefined, {
    context: CONTEXT_LINES,
    maxEditLength: MAX_EDIT_LINES,
  });
  const hunks = computed?.hunks ?? [replacementHunk(oldText, newText)];
  return formatPatch(gitHeader(path, before?.mode, after?.mode, hunks));
}

/** A git-style stanza for a file whose content changed but cannot be shown as text. */
export function binaryPatch(
  path: string,
  beforeMode: number | undefined,
  afterMode: number | undefined,
): string {
  const header = gitHeader(path, beforeMode, afterMode, []);
  const oldName = beforeMode === undefined ? "/dev/null" : quotePath(`a/${path}`);
  const newName = afterMode === undefined ? "/dev/null" : quotePath(`b/${path}`);
  return `${formatPatch(header)}Binary files ${oldName} and ${newName} differ\n`;
}

/** A git-style stanza for a file whose executable bit alone changed. */
export function modePatch(path: string, beforeMode: number, afterMode: number): string {
  return formatPatch(gitHeader(path, beforeMode, afterMode, []));
}

function gitHeader(
  path: string,
  beforeMode: number | undefined,
  afterMode: number | undefined,
  hunks: StructuredPatchHunk[],
): StructuredPatch {
  const oldMode = beforeMode === undefined ? undefined : gitFileMode(beforeMode);
  const newMode = afterMode === undefined ? undefined : gitFileMode(afterMode);
  const modeChanged = oldMode !== undefined && newMode !== undefined && oldMode !== newMode;
  return {
    isGit: true,
    isCreate: beforeMode === undefined,
    isDelete: afterMode === undefined,
    oldFileName: beforeMode === undefined ? "/dev/null" : `a/${path}`,
    newFileName: afterMode === undefined ? "/dev/null" : `b/${path}`,
    oldHeader: undefined,
    newHeader: undefined,
    // Mode lines are printed only for creations, deletions and real mode changes.
    oldMode: beforeMode === undefined || afterMode === undefined || modeChanged ? oldMode : undefined,
    newMode: beforeMode === undefined || afterMode === undefined || modeChanged ? newMode : undefined,
    hunks,
  };
}

/** One hunk replacing every old line with every new line. */
function replacementHunk(oldText: string, newText: string): StructuredPatchHunk {
  const removed = prefixedLines(oldText, "-");
  const added = prefixedLines(newText, "+");
  return {
    oldStart: 1,
    oldLines: removed.count,
    newStart: 1,
    newLines: added.count,
    lines: [...removed.lines, ...added.lines],
  };
}

function prefixedLines(text: string, prefix: "-" | "+"): { lines: string[]; count: number } {
  if (text === "") return { lines: [], count: 0 };
  const lines = text.split("\n");
  const endsWithNewline = lines[lines.length - 1] === "";
  if (endsWithNewline) lines.pop();
  const prefixed = lines.map((line) => prefix + line);
  if (!endsWithNewline) prefixed.push("\\ No newline at end of file");
  return { lines: prefixed, count: lines.length };
}

const C_ESCAPES: Readonly<Record<number, string>> = {
  0x07: "\\a",
  0x08: "\\b",
  0x09: "\\t",
  0x0a: "\\n",
  0x0b: "\\v",
  0x0c: "\\f",
  0x0d: "\\r",
  0x22: '\\"',
  0x5c: "\\\\",
};

/** Git's C-style quoting of a path with control characters, quotes, backslashes or non-ASCII. */
export function quotePath(path: string): string {
  if (!/[^\x20-\x7e]|["\\]/.test(path)) return path;
  let quoted = '"';
  for (const byte of Buffer.from(path)) {
    const escape = C_ESCAPES[byte];
    if (escape !== undefined) quoted += escape;
    else if (byte < 0x20 || byte > 0x7e) quoted += `\\${byte.toString(8).padStart(3, "0")}`;
    else quoted += String.fromCharCode(byte);
  }
  return `${quoted}"`;
}
