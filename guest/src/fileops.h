/* Native file operations on the workspace (T_FS_* requests), confined to one
 * root directory: every path is resolved with openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_MAGICLINKS) from a descriptor of the root, so `..`, absolute
 * symlinks and symlinks swapped in mid-operation cannot leave it. Replies go
 * straight to the channel; only writes span several frames and keep state. */
#ifndef PYRO_FILEOPS_H
#define PYRO_FILEOPS_H

#include <stdint.h>

#include "frame.h"

#define MAX_WRITES 64 /* writes receiving data at once */

/* The directory requests are confined to (host mode: --workdir; guest: /workspace). */
void fs_set_root(const char *root);
/* Handles one FS request frame (already validated). */
void fs_request(const struct frame *f);
/* Data for a pending write; FLAG_END finishes it. Unknown streams are ignored. */
void fs_data(const struct frame *f);
int fs_busy(uint32_t stream);
/* Writes still receiving data (a freeze must not start under one). */
int fs_writes_pending(void);
/* Drops a pending write (its temp file goes); 1 if there was one. */
int fs_abort(uint32_t stream);
void fs_abort_all(void);

#endif
