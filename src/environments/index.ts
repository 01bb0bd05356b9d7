export {
  DEFAULT_ENVIRONMENT,
  ENVIRONMENT_CATALOG,
  environmentNames,
  findEnvironmentSpec,
  getEnvironmentSpec,
  type EnvironmentSpec,
} from "./catalog.js";
export {
  checkEnvironmentName,
  environmentCacheDir,
  environmentPaths,
  type EnvironmentPaths,
} from "./paths.js";
export { installEntry, makeStaging } from "./install-entry.js";
export { cpioChunks, writeCpio, type CpioEntry } from "./cpio.js";
export { INITRAMFS_MODULE_DIR, INITRAMFS_MODULE_ORDER } from "./initramfs.js";
export { buildEnvironment, type BuildOptions, type BuildProgress, type PhaseDetail } from "./build.js";
export {
  checkEnvironment,
  ensureEnvironment,
  inspectEnvironment,
  installedNames,
  knownName,
  listEnvironments,
  resolveInstalled,
  type EnvironmentDetails,
  type EnvironmentListItem,
  type EnvironmentStatus,
} from "./cache.js";
export { pruneEnvironments, type PruneReport } from "./prune.js";
export type { RemovedItem } from "./leftovers.js";
export type { InstalledEnvironment } from "./installed.js";
export type { EnvironmentManifest, ImageConfig, Provenance } from "./manifest-schema.js";
// Registry code is loaded only by the operations that use it (api/handlers/environments.ts).
export type { PushOptions, PushResult } from "./artifact/push.js";
export type { PullOptions, PullOutcome } from "./pull-environment.js";
export type { VerifyReport } from "./verify-environment.js";
