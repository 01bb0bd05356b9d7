import type { IndexEntry } from "./index-tar.js";
import { binaryPatch, gitFileMode, modePatch, textPatch } from "./patch-format.js";

export type ChangeStatus = "added" | "modified" | "deleted" | "type_changed";

export interface DiffChange {
  path: string;
  status: ChangeStatus;
  /** Whether the change is shown as a unified text patch. */
  text: boolean;
}

export interface DiffSummary {
  total: number;
  added: number;
  modified: number;
  deleted: number;
  type_changed: number;
  /** Changes shown as a text patch (both file sides text, or one side absent and the other text). */
  text_patched: number;
  /** Changes of file content that cannot be shown as text (binary, or larger than 512 KiB). */
  non_text: number;
}

export interface IndexDiff {
  summary: DiffSummary;
  changes: DiffChange[];
  patch: string;
  patch_truncated: boolean;
}

export interface DiffOptions {
  /** Whole file stanzas are left out of `patch` beyond this size. Default 2 MiB. */
  maxPatchBytes?: number;
}

type PatchKind = "text" | "binary" | "none";

const DEFAULT_MAX_PATCH_BYTES = 2 * 1024 * 1024;

/**
 * Compares two tar indexes as `git diff` would compare two trees. Directories are not changes in
 * themselves (an added or deleted directory shows through its files); a path whose type changed
 * (file, directory, symlink) is `type_changed`. `modified` means same type and different content,
 * a different symlink target, or for files a changed executable bit (the only mode bit git keeps).
 * The patch lists stanzas by path; a symlink change has none.
 */
export function diffIndexes(
  baseline: ReadonlyMap<string, IndexEntry>,
  current: ReadonlyMap<string, IndexEntry>,
  options: DiffOptions = {},
): IndexDiff {
  const maxPatchBytes = options.maxPatchBytes ?? DEFAULT_MAX_PATCH_BYTES;
  const summary: DiffSummary = {
    total: 0,
    added: 0,
    modified: 0,
    deleted: 0,
    type_changed: 0,
    text_patched: 0,
    non_text: 0,
  };
  const changes: DiffChange[] = [];
  const stanzas: string[] = [];
  let patchBytes = 0;
  let truncated = false;
  const paths = [...new Set([...baseline.keys(), ...current.keys()])].sort(byCodeUnit);
  for (const path of paths) {
    const before = baseline.get(path);
    const after = current.get(path);
    const change = classify(before, after);
    if (change === undefined) continue;
    summary.total += 1;
    summary[change.status] += 1;
    if (change.kind === "text") summary.text_patched += 1;
    if (change.kind === "binary") summary.non_text += 1;
    changes.push({ path, status: change.status, text: change.kind === "text" });
    if (truncated) continue;
    const stanza = patchStanza(path, change.kind, fileSide(before), fileSide(after));
    if (stanza === null) {
      truncated = true;
      continue;
    }
    const bytes = Buffer.byteLength(stanza);
    if (patchBytes + bytes > maxPatchBytes) {
      truncated = true;
      continue;
    }
    stanzas.push(stanza);
    patchBytes += bytes;
  }
  return { summary, changes, patch: stanzas.join(""), patch_truncated: truncated };
}

function classify(
  before: IndexEntry | undefined,
  after: IndexEntry | undefined,
): { status: ChangeStatus; kind: PatchKind } | undefined {
  if (before === undefined || after === undefined) {
    const present = before ?? after;
    if (present === undefined || present.type === "directory") return undefined;
    return {
      status: before === undefined ? "added" : "deleted",
      kind: contentKind(fileSide(before), fileSide(after)),
    };
  }
  if (before.type !== after.type) {
    return { status: "type_changed", kind: contentKind(fileSide(before), fileSide(after)) };
  }
  switch (before.type) {
    case "file": {
      if (before.sha256 !== after.sha256) return { status: "modified", kind: contentKind(before, after) };
      return gitFileMode(before.mode) === gitFileMode(after.mode)
        ? undefined
        : { status: "modified", kind: "none" };
    }
    case "symlink":
      return before.link_target === after.link_target ? undefined : { status: "modified", kind: "none" };
    default:
      return undefined;
  }
}

function contentKind(before: IndexEntry | undefined, after: IndexEntry | undefined): PatchKind {
  const files = [before, after].filter((side) => side !== undefined);
  if (files.length === 0) return "none";
  return files.every((file) => file.is_text) ? "text" : "binary";
}

/**
 * The patch stanza of one change: `""` when it has none, null when its text was not kept in the
 * index (the patch is then incomplete).
 */
function patchStanza(
  path: string,
  kind: PatchKind,
  before: IndexEntry | undefined,
  after: IndexEntry | undefined,
): string | null {
  switch (kind) {
    case "binary":
      return binaryPatch(path, before?.mode, after?.mode);
    case "none":
      return before !== undefined && after !== undefined ? modePatch(path, before.mode, after.mode) : "";
    case "text": {
      if ((before !== undefined && before.text === null) || (after !== undefined && after.text === null))
        return null;
      const side = (file: IndexEntry | undefined) =>
        file === undefined ? undefined : { mode: file.mode, text: file.text ?? "" };
      return textPatch(path, side(before), side(after));
    }
  }
}

function fileSide(entry: IndexEntry | undefined): IndexEntry | undefined {
  return entry?.type === "file" ? entry : undefined;
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
