export {
  importImage,
  IMAGE_BYTES,
  IMAGE_ENTRIES,
  type Credentials,
  type ImportOptions,
} from "./import-image.js";
export type { ImageSource, TransferProgress } from "./image-source.js";
