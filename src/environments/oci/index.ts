export { formatReference, parseReference, type ImageReference } from "./reference.js";
export {
  RegistryClient,
  type BlobStream,
  type Credentials,
  type Descriptor,
  type ImageManifest,
  type RegistryOptions,
  type ResolvedManifest,
} from "./client.js";
export { BlobStore, type BlobConsumer, type FetchOptions, type TransferProgress } from "./blob-store.js";
export { dockerConfigPath } from "./docker-config.js";
export {
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  MAX_LAYERS,
  MAX_MANIFEST_BYTES,
  OCI_INDEX,
  OCI_MANIFEST,
} from "./manifest-types.js";
