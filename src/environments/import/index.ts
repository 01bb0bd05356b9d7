export { importImage, IMAGE_BYTES, IMAGE_ENTRIES, type ImportOptions } from "./import-image.js";
export type { ImageSource } from "./image-source.js";
