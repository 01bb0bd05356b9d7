import { MAX_COMPONENT_BYTES, MAX_PATH_DEPTH } from "./limits.js";

/** A tar entry name checked and normalised to a relative path; `""` is the archive root (`.`, `./`). */
export type ParsedEntryName = { ok: true; path: string } | { ok: false; reason: string };

/**
 * Checks a raw entry name (or hard-link target) and normalises it: no leading `./`, no empty or
 * `.` segments, no trailing `/`. Absolute names, `..` segments, NUL bytes, over-long and over-deep names are
 * refused rather than repaired, because a name that needs repairing was crafted, not produced by tar.
 */
export function parseEntryName(raw: string, maxNameBytes: number): ParsedEntryName {
  if (raw.includes("\0")) return { ok: false, reason: "name contains a NUL byte" };
  if (Buffer.byteLength(raw) > maxNameBytes) {
    return { ok: false, reason: `name is longer than ${maxNameBytes} bytes` };
  }
  if (raw.startsWith("/")) return { ok: false, reason: "absolute name" };
  const segments = raw.split("/").filter((segment) => segment !== "" && segment !== ".");
  if (segments.includes("..")) return { ok: false, reason: "name contains a '..' segment" };
  if (segments.length > MAX_PATH_DEPTH) {
    return { ok: false, reason: `name is nested more than ${MAX_PATH_DEPTH} levels deep` };
  }
  if (segments.some((segment) => Buffer.byteLength(segment) > MAX_COMPONENT_BYTES)) {
    return { ok: false, reason: `a path component is longer than ${MAX_COMPONENT_BYTES} bytes` };
  }
  return { ok: true, path: segments.join("/") };
}

/** The parent of a normalised relative path (`""` for a top-level name). */
export function parentPath(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash === -1 ? "" : path.slice(0, slash);
}

/**
 * Maps a normalised entry name onto an exported path (`""` exports the whole tree): `""` for the
 * exported path itself, the remainder below it, or undefined when the name is elsewhere.
 */
export function relativeToExport(path: string, exportedPath: string): string | undefined {
  if (exportedPath === "") return path;
  if (path === exportedPath) return "";
  return path.startsWith(`${exportedPath}/`) ? path.slice(exportedPath.length + 1) : undefined;
}
