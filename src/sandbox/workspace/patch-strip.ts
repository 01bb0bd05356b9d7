import type { StructuredPatch } from "diff";
import { PyroError } from "../../errors/index.js";
import { resolveWorkspacePath } from "./paths.js";

const DEV_NULL = "/dev/null";
// Deeper than this, nobody means to strip; it also bounds the guest reads detection makes.
const MAX_STRIP = 8;
const MAX_LISTED = 20;

/** The strip level a patch applies with, and whether it was found rather than given. */
export interface StripChoice {
  strip: number;
  strip_detected: boolean;
}

/**
 * A name from a patch header with its first `strip` slash-separated components removed, as
 * `patch -pN` does (a leading "/" counts as an empty component); null when it has too few.
 */
export function stripName(name: string, strip: number): string | null {
  const parts = name.split("/");
  if (parts.length <= strip) return null;
  return parts.slice(strip).join("/");
}

/**
 * diff -N marks a missing side with the epoch as its time stamp instead of /dev/null
 * (`--- dirA/new.txt  1970-01-01 00:00:00.000000000 +0000`).
 */
export function epochHeader(header: string | undefined): boolean {
  const match = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.\d+)? ([+-]\d{2})(\d{2})$/.exec(
    header?.trim() ?? "",
  );
  if (match === null) return false;
  const [, date, time, hours, minutes] = match as unknown as [string, string, string, string, string];
  return Date.parse(`${date}T${time}${hours}:${minutes}`) === 0;
}

/** The old names that must already exist in /workspace: every side a patch changes or deletes. */
function existingNames(patches: readonly StructuredPatch[]): string[] {
  return patches
    .filter((patch) => patch.isCreate !== true && !epochHeader(patch.oldHeader))
    .map((patch) => patch.oldFileName)
    .filter((name): name is string => name !== undefined && name !== DEV_NULL);
}

/**
 * The level a patch's names are stripped by: the given one, or the one at which every file the
 * patch changes exists (as `patch` guesses). With several such levels the conventional one wins
 * (1 for git's a/ b/ and for `diff -r dirA dirB`, else 0). A patch that only adds files gets the
 * conventional level. When no level fits, PATCH_FAILED lists the paths it looked for.
 */
export async function chooseStrip(
  patches: readonly StructuredPatch[],
  exists: (path: string) => Promise<boolean>,
  given: number | undefined,
): Promise<StripChoice> {
  if (given !== undefined) return { strip: given, strip_detected: false };
  const usual = conventionalStrip(patches);
  const needed = existingNames(patches);
  if (needed.length === 0) return { strip: usual, strip_detected: true };
  const deepest = Math.min(MAX_STRIP, Math.max(...needed.map((name) => name.split("/").length - 1)));
  const levels = [
    usual,
    ...Array.from({ length: deepest + 1 }, (_, level) => level).filter((l) => l !== usual),
  ];
  const lookedFor: string[] = [];
  let firstMissing: string | null = null;
  for (const level of levels) {
    const missing = await firstMissingAt(needed, level, exists, lookedFor);
    if (missing === null) return { strip: level, strip_detected: true };
    if (level === usual) firstMissing = missing;
  }
  // Paths that leave /workspace at the usual level get that error, not "no match".
  for (const name of needed) resolveWorkspacePath(stripName(name, usual) ?? name);
  const shown = [...new Set(lookedFor)].slice(0, MAX_LISTED);
  throw new PyroError(
    "PATCH_FAILED",
    `the patch's paths match no files in /workspace at any strip level 0-${deepest}; looked for: ${shown.join(", ")}`,
    {
      hint: "Nothing was changed. Pass --strip N (like patch -pN) if the patch's paths carry other prefixes, or check the workspace holds the files it changes.",
      details: { file: firstMissing, looked_for: shown },
    },
  );
}

/** The first name missing from /workspace at a strip level (as a path, or the name), or null when all exist. */
async function firstMissingAt(
  names: readonly string[],
  level: number,
  exists: (path: string) => Promise<boolean>,
  lookedFor: string[],
): Promise<string | null> {
  for (const name of names) {
    const stripped = stripName(name, level);
    if (stripped === null) return name;
    let path: string;
    try {
      path = resolveWorkspacePath(stripped);
    } catch {
      return name;
    }
    if (path === ".") return name;
    lookedFor.push(`/workspace/${path}`);
    if (!(await exists(path))) return path;
  }
  return null;
}

/** 1 for git's a/ and b/ prefixes and for `diff -r dirA dirB` (one top directory per side), else 0. */
function conventionalStrip(patches: readonly StructuredPatch[]): number {
  const side = (pick: (patch: StructuredPatch) => string | undefined): string[] =>
    patches.map(pick).filter((name): name is string => name !== undefined && name !== DEV_NULL);
  const olds = side((patch) => patch.oldFileName);
  const news = side((patch) => patch.newFileName);
  if (olds.every((name) => name.startsWith("a/")) && news.every((name) => name.startsWith("b/"))) return 1;
  const tops = (names: string[]): Set<string | null> =>
    new Set(names.map((name) => (name.includes("/") ? (name.split("/")[0] ?? null) : null)));
  const [oldTop, ...moreOld] = tops(olds);
  const [newTop, ...moreNew] = tops(news);
  const split = moreOld.length === 0 && moreNew.length === 0 && oldTop && newTop && oldTop !== newTop;
  return split ? 1 : 0;
}
