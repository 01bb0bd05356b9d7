/** Shared facts of the sparse root image layer (see sparse-tar-encode.ts). */

/** Granularity of holes: the ext4 block size. */
export const BLOCK = 4096;

export interface SparseRegion {
  offset: number;
  length: number;
}

/** The member name of the root image inside its layer. */
export const ROOTFS_MEMBER = "rootfs.ext4";
