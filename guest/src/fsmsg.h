/* Wire format of the file-operation messages (T_FS_*): one request shape for
 * every operation, the entry records of a listing, and the final FS_DONE.
 * Pure, bounds-checked, no I/O. Paths are raw bytes (no NUL), relative to the
 * workspace root. */
#ifndef PYRO_FSMSG_H
#define PYRO_FSMSG_H

#include "frame.h"

/* What FS_LIST reports: the path itself (not following it), a directory's
 * children, or all its descendants. */
enum fs_scope { FS_SELF = 0, FS_CHILDREN = 1, FS_RECURSIVE = 2 };
enum fs_type { FS_FILE = 1, FS_DIR = 2, FS_SYMLINK = 3, FS_OTHER = 4 };

#define FS_PATH_MAX 4095u           /* bytes of a path or link target */
#define FS_READ_MAX (4u << 20)      /* bytes one FS_READ may ask for */
#define FS_LIST_MAX 1000000u        /* entries one FS_LIST may return */

/* Any request; which fields are required depends on the type (msg_decode_fs). */
struct msg_fs {
	struct bytes path, target, data;
	int has_mode, has_mtime, has_data;
	uint32_t mode, scope, max_entries, length, parents, recursive, hard, no_fsync;
	uint64_t offset, mtime_ns;
};

struct fs_entry {
	struct bytes name, link; /* name is relative to the listed path; "" is the path itself */
	uint32_t type, mode, uid, gid;
	uint64_t size, mtime_ns;
	int has_link;
};

struct msg_fs_done {
	int has_size, has_count, has_truncated, has_path;
	uint64_t size;
	uint32_t count, truncated;
	struct bytes path;
};

int msg_decode_fs(uint8_t type, const uint8_t *b, size_t n, struct msg_fs *m, const char **err);
long msg_encode_fs(uint8_t type, uint8_t *out, size_t cap, const struct msg_fs *m);

/* Appends one TAG_ENTRY; returns -1 (writer untouched) when it does not fit. */
int fs_entry_put(struct tlv_writer *w, const struct fs_entry *e);
/* Decodes every entry of an FS_ENTRIES body, calling fn (may be NULL) for each. */
int msg_decode_fs_entries(const uint8_t *b, size_t n, int (*fn)(void *ctx, const struct fs_entry *e),
			  void *ctx, const char **err);

int msg_decode_fs_done(const uint8_t *b, size_t n, struct msg_fs_done *m, const char **err);
long msg_encode_fs_done(uint8_t *out, size_t cap, const struct msg_fs_done *m);

#endif
