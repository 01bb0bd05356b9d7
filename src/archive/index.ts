export {
  diffIndexes,
  type ChangeStatus,
  type DiffChange,
  type DiffOptions,
  type DiffSummary,
  type IndexDiff,
} from "./diff-indexes.js";
export { parseEntryName, type ParsedEntryName } from "./entry-names.js";
export {
  extractGuestTar,
  type ArtifactType,
  type ExtractOptions,
  type ExtractResult,
} from "./extract-guest-tar.js";
export {
  indexTar,
  type IndexEntry,
  type IndexEntryType,
  type IndexOptions,
  type TarIndex,
} from "./index-tar.js";
export { DEFAULT_TAR_LIMITS, type TarLimits } from "./limits.js";
export { packDirectory, packFile, type PackedSource } from "./pack.js";
export { archiveStream, inspectSource, type SourceInfo, type SourceKind } from "./source.js";
export { validateArchive, type ArchiveContents } from "./validate-archive.js";
export type { SkippedEntry } from "./walk-tree.js";
export {
  ARCHIVE_ENTRIES,
  CapBudget,
  capValue,
  EXPORT_BYTES,
  limitExceeded,
  SEED_BYTES,
  SNAPSHOT_BYTES,
  type Cap,
} from "./caps.js";
export { ensureHostSpace, HOST_DISK_RESERVE_BYTES, HostSpaceGuard } from "./host-space.js";
