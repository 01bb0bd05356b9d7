import { PyroError } from "../../errors/index.js";
import type { GuestRunner } from "./guest-runner.js";
import { GuestStatus, guestFileError, shellArgv } from "./guest-files-script.js";
import { NulFieldSplitter } from "./guest-files-nul-fields.js";
import { guestArgumentPath, resolveWorkspacePath, workspaceAbsolutePath } from "./paths.js";

export type WorkspaceEntryType = "file" | "directory" | "symlink" | "other";

export interface WorkspaceEntry {
  /** Relative to /workspace. */
  path: string;
  type: WorkspaceEntryType;
  size: number;
  /** Permission bits in octal, e.g. "0644". */
  mode: string;
  /** ISO 8601. */
  mtime: string;
  link_target?: string;
}

export interface ListFilesOptions {
  recursive?: boolean;
  /** Most entries returned (default 10,000); more are reported as truncated. */
  limit?: number;
}

export interface ListFilesResult {
  /** The listed path in its absolute guest form (/workspace/…). */
  path: string;
  entries: WorkspaceEntry[];
  truncated: boolean;
}

export const DEFAULT_LIST_LIMIT = 10_000;
const MAX_FIELD_BYTES = 64 * 1024;
// Names alone could be long; past this many bytes of kept fields the listing is cut as truncated.
const MAX_LISTING_BYTES = 64 * 1024 * 1024;
// What keeping one field costs beyond its bytes, so a flood of empty fields is charged too.
const FIELD_OVERHEAD_BYTES = 64;
const FIELDS = ["type", "size", "mode", "mtime", "link_target", "path"] as const;

/**
 * A directory lists its children (all descendants with `recursive`), a file or a symlink lists
 * itself. -H follows the listed path when it is a symlink (already confined); links below it are
 * reported as links. `head -z` stops find one record past the limit, so truncation is detectable.
 */
const LIST_SCRIPT = `
confine "$1"
[ -e "$1" ] || [ -L "$1" ] || exit ${GuestStatus.MISSING}
if [ -d "$t" ]; then
  if [ "$2" = 1 ]; then set -- "$@" -mindepth 1; else set -- "$@" -mindepth 1 -maxdepth 1; fi
else
  set -- "$@" -maxdepth 0
fi
start=$1 fields=$3
shift 3
find -H "$start" "$@" -printf '%y\\0%s\\0%m\\0%T@\\0%l\\0%P\\0' | head -z -n "$fields"
`;

export async function listFiles(
  run: GuestRunner,
  path: string,
  options: ListFilesOptions = {},
): Promise<ListFilesResult> {
  const limit = options.limit ?? DEFAULT_LIST_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new PyroError("INVALID_ARGUMENT", `the entry limit must be a positive integer, not ${limit}`);
  }
  const relative = resolveWorkspacePath(path);
  const splitter = new NulFieldSplitter(MAX_FIELD_BYTES);
  const records: string[][] = [];
  let current: string[] = [];
  let keptBytes = 0;
  let overflow = false;
  let parseError: unknown = null;
  const outcome = await run(
    shellArgv(LIST_SCRIPT, [
      guestArgumentPath(relative),
      options.recursive ? "1" : "0",
      String((limit + 1) * FIELDS.length),
    ]),
    {
      captureLimitBytes: 0,
      // Never throw into the runner: remember the first problem and ignore the rest of the stream.
      onStdout: (chunk) => {
        if (parseError !== null || overflow) return;
        try {
          for (const field of splitter.push(chunk)) {
            keptBytes += field.length + FIELD_OVERHEAD_BYTES;
            current.push(field);
            if (current.length === FIELDS.length) {
              records.push(current);
              current = [];
            }
          }
          // One record past the limit proves truncation; nothing after it is kept.
          overflow = keptBytes > MAX_LISTING_BYTES || records.length > limit;
        } catch (error) {
          parseError = error;
        }
      },
    },
  );
  if (outcome.exit_code !== 0) throw guestFileError(outcome, relative, "listing");
  if (parseError !== null) throw parseError;
  if (!overflow && (current.length > 0 || splitter.hasPartialField)) {
    throw new PyroError("EXEC_FAILED", "the guest's file listing ended in the middle of an entry");
  }
  const entries = records.slice(0, limit).map((record) => parseEntry(record, relative));
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return {
    path: workspaceAbsolutePath(relative),
    entries,
    truncated: overflow,
  };
}

const ENTRY_TYPES: Record<string, WorkspaceEntryType> = { f: "file", d: "directory", l: "symlink" };

function parseEntry(record: string[], listed: string): WorkspaceEntry {
  const [type = "", size = "", mode = "", mtime = "", linkTarget = "", name = ""] = record;
  const modified = new Date(Number(mtime) * 1000);
  if (!/^\d+$/.test(size) || !/^[0-7]{1,4}$/.test(mode) || Number.isNaN(modified.getTime())) {
    throw new PyroError("EXEC_FAILED", "the guest's file listing holds a malformed entry", {
      details: { entry: record.map((field) => field.slice(0, 200)) },
    });
  }
  const entryType = ENTRY_TYPES[type] ?? "other";
  return {
    // %P is empty for the listed path itself (a file, or a symlink listed directly).
    path: name === "" ? listed : listed === "." ? name : `${listed}/${name}`,
    type: entryType,
    size: Number(size),
    mode: mode.padStart(4, "0"),
    mtime: modified.toISOString(),
    ...(entryType === "symlink" ? { link_target: linkTarget } : {}),
  };
}
