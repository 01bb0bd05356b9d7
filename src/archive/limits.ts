import { ARCHIVE_ENTRIES, capValue } from "./caps.js";

/** Bounds applied to every tar stream read on the host; guest streams are hostile. */
export interface TarLimits {
  /** Entries per archive (directories, files, links, everything). */
  maxEntries: number;
  /** Bytes in one entry name or link target. */
  maxNameBytes: number;
  /** Bytes of all names and link targets together: what an index or an export may hold in memory. */
  maxTotalNameBytes: number;
}

export const DEFAULT_TAR_LIMITS: TarLimits = {
  maxEntries: 1_000_000,
  maxNameBytes: 4096,
  maxTotalNameBytes: 256 * 1024 * 1024,
};

/** The limits in force now: the entry count can be raised with PYRO_MAX_ARCHIVE_ENTRIES. */
export function currentTarLimits(): TarLimits {
  return { ...DEFAULT_TAR_LIMITS, maxEntries: capValue(ARCHIVE_ENTRIES) };
}

/** Bytes in one path component; longer names fail on Linux file systems anyway. */
export const MAX_COMPONENT_BYTES = 255;

/** Components in one entry name: deeper trees are refused (each level is a directory to create). */
export const MAX_PATH_DEPTH = 256;

/** Pax headers larger than this are not parsed (and their entry is refused or skipped). */
export const MAX_PAX_HEADER_BYTES = 64 * 1024;

/** Files up to this size that look like text keep their text in a diff index. */
export const MAX_TEXT_FILE_BYTES = 512 * 1024;

/** How much of a file is searched for a NUL byte when deciding whether it is text. */
export const TEXT_SNIFF_BYTES = 8 * 1024;

/** Symlinks followed while resolving one link target, as the kernel's SYMLOOP_MAX. */
export const MAX_SYMLINK_HOPS = 40;
