#include "fsmsg.h"

#include <string.h>

static int want_path(struct bytes v, struct bytes *out, const char **err)
{
	if (want_str(v, out, err) < 0)
		return -1;
	if (v.n > FS_PATH_MAX) {
		*err = "path field is too long";
		return -1;
	}
	return 0;
}

struct fs_seen {
	struct msg_fs *m;
	unsigned seen; /* bit (tag - TAG_PATH) per field present */
};

static int fs_field(void *sp, uint8_t tag, struct bytes v, const char **err)
{
	struct fs_seen *s = sp;
	struct msg_fs *m = s->m;
	if (tag >= TAG_PATH && tag <= TAG_DATA)
		s->seen |= 1u << (tag - TAG_PATH);
	switch (tag) {
	case TAG_PATH: return want_path(v, &m->path, err);
	case TAG_TARGET: return want_path(v, &m->target, err);
	case TAG_FILE_MODE:
		m->has_mode = 1;
		return want_u32(v, &m->mode, err);
	case TAG_SCOPE: return want_u32(v, &m->scope, err);
	case TAG_MAX_ENTRIES: return want_u32(v, &m->max_entries, err);
	case TAG_OFFSET: return want_u64(v, &m->offset, err);
	case TAG_LENGTH: return want_u32(v, &m->length, err);
	case TAG_PARENTS: return want_u32(v, &m->parents, err);
	case TAG_RECURSIVE: return want_u32(v, &m->recursive, err);
	case TAG_HARD: return want_u32(v, &m->hard, err);
	case TAG_MTIME_NS:
		m->has_mtime = 1;
		return want_u64(v, &m->mtime_ns, err);
	case TAG_NO_FSYNC: return want_u32(v, &m->no_fsync, err);
	case TAG_DATA:
		m->has_data = 1;
		m->data = v; /* raw bytes */
		return 0;
	}
	return 0;
}

#define HAS(tag) (1u << ((tag) - TAG_PATH))

int msg_decode_fs(uint8_t type, const uint8_t *b, size_t n, struct msg_fs *m, const char **err)
{
	struct fs_seen s = { m, 0 };
	struct tlv_reader r;
	uint8_t tag;
	struct bytes v;
	int rc;
	memset(m, 0, sizeof(*m));
	m->scope = FS_CHILDREN;
	tlv_init(&r, b, n);
	while ((rc = tlv_next(&r, &tag, &v, err)) == 1)
		if (fs_field(&s, tag, v, err) < 0)
			return -1;
	if (rc < 0)
		return -1;
	unsigned need = HAS(TAG_PATH);
	switch (type) {
	case T_FS_LIST: need |= HAS(TAG_MAX_ENTRIES); break;
	case T_FS_READ: need |= HAS(TAG_LENGTH); break;
	case T_FS_CHMOD: need |= HAS(TAG_FILE_MODE); break;
	case T_FS_RENAME: case T_FS_LINK: need |= HAS(TAG_TARGET); break;
	}
	if ((s.seen & need) != need) {
		*err = "missing field in a file request";
		return -1;
	}
	if (m->scope > FS_RECURSIVE || m->mode > 07777 || m->length > FS_READ_MAX) {
		*err = "file request field out of range";
		return -1;
	}
	return 0;
}

long msg_encode_fs(uint8_t type, uint8_t *out, size_t cap, const struct msg_fs *m)
{
	struct tlv_writer w;
	tlv_writer_init(&w, out, cap);
	tlv_put_bytes(&w, TAG_PATH, m->path);
	if (type == T_FS_RENAME || type == T_FS_LINK)
		tlv_put_bytes(&w, TAG_TARGET, m->target);
	if (m->has_mode)
		tlv_put_u32(&w, TAG_FILE_MODE, m->mode);
	if (type == T_FS_LIST) {
		tlv_put_u32(&w, TAG_SCOPE, m->scope);
		tlv_put_u32(&w, TAG_MAX_ENTRIES, m->max_entries);
	}
	if (type == T_FS_READ) {
		tlv_put_u64(&w, TAG_OFFSET, m->offset);
		tlv_put_u32(&w, TAG_LENGTH, m->length);
	}
	if (type == T_FS_WRITE || type == T_FS_MKDIR)
		tlv_put_u32(&w, TAG_PARENTS, m->parents);
	if (type == T_FS_REMOVE)
		tlv_put_u32(&w, TAG_RECURSIVE, m->recursive);
	if (type == T_FS_LINK)
		tlv_put_u32(&w, TAG_HARD, m->hard);
	if (m->has_mtime)
		tlv_put_u64(&w, TAG_MTIME_NS, m->mtime_ns);
	if (m->has_data)
		tlv_put_bytes(&w, TAG_DATA, m->data);
	if (type == T_FS_WRITE && m->no_fsync)
		tlv_put_u32(&w, TAG_NO_FSYNC, m->no_fsync);
	return tlv_end(&w);
}

int fs_entry_put(struct tlv_writer *w, const struct fs_entry *e)
{
	if (w->overflow)
		return -1;
	/* NAME, four u32 fields (TYPE, MODE, UID, GID), two u64 (SIZE, MTIME), LINK. */
	size_t inner = (5 + e->name.n) + 4 * (5 + 4) + 2 * (5 + 8) + (e->has_link ? 5 + e->link.n : 0);
	if (w->cap - w->len < 5 + inner)
		return -1;
	w->buf[w->len] = TAG_ENTRY;
	w->buf[w->len + 1] = (uint8_t)(inner >> 24);
	w->buf[w->len + 2] = (uint8_t)(inner >> 16);
	w->buf[w->len + 3] = (uint8_t)(inner >> 8);
	w->buf[w->len + 4] = (uint8_t)inner;
	struct tlv_writer in;
	tlv_writer_init(&in, w->buf + w->len + 5, inner);
	tlv_put_bytes(&in, TAG_E_NAME, e->name);
	tlv_put_u32(&in, TAG_E_TYPE, e->type);
	tlv_put_u32(&in, TAG_E_MODE, e->mode);
	tlv_put_u64(&in, TAG_E_SIZE, e->size);
	tlv_put_u64(&in, TAG_E_MTIME_NS, e->mtime_ns);
	tlv_put_u32(&in, TAG_E_UID, e->uid);
	tlv_put_u32(&in, TAG_E_GID, e->gid);
	if (e->has_link)
		tlv_put_bytes(&in, TAG_E_LINK, e->link);
	if (tlv_end(&in) != (long)inner)
		return -1;
	w->len += 5 + inner;
	return 0;
}

static int entry_field(void *ep, uint8_t tag, struct bytes v, const char **err)
{
	struct fs_entry *e = ep;
	switch (tag) {
	case TAG_E_NAME: return want_path(v, &e->name, err);
	case TAG_E_TYPE: return want_u32(v, &e->type, err);
	case TAG_E_MODE: return want_u32(v, &e->mode, err);
	case TAG_E_SIZE: return want_u64(v, &e->size, err);
	case TAG_E_MTIME_NS: return want_u64(v, &e->mtime_ns, err);
	case TAG_E_UID: return want_u32(v, &e->uid, err);
	case TAG_E_GID: return want_u32(v, &e->gid, err);
	case TAG_E_LINK:
		e->has_link = 1;
		return want_path(v, &e->link, err);
	}
	return 0;
}

int msg_decode_fs_entries(const uint8_t *b, size_t n, int (*fn)(void *ctx, const struct fs_entry *e),
			  void *ctx, const char **err)
{
	struct tlv_reader r, in;
	uint8_t tag, itag;
	struct bytes v, iv;
	int rc, irc;
	tlv_init(&r, b, n);
	while ((rc = tlv_next(&r, &tag, &v, err)) == 1) {
		if (tag != TAG_ENTRY)
			continue;
		struct fs_entry e;
		memset(&e, 0, sizeof(e));
		tlv_init(&in, v.p, v.n);
		while ((irc = tlv_next(&in, &itag, &iv, err)) == 1)
			if (entry_field(&e, itag, iv, err) < 0)
				return -1;
		if (irc < 0)
			return -1;
		if (e.type < FS_FILE || e.type > FS_OTHER) {
			*err = "entry type out of range";
			return -1;
		}
		if (fn && fn(ctx, &e) < 0)
			return -1;
	}
	return rc;
}

static int done_field(void *mp, uint8_t tag, struct bytes v, const char **err)
{
	struct msg_fs_done *m = mp;
	switch (tag) {
	case TAG_SIZE:
		m->has_size = 1;
		return want_u64(v, &m->size, err);
	case TAG_COUNT:
		m->has_count = 1;
		return want_u32(v, &m->count, err);
	case TAG_TRUNCATED:
		m->has_truncated = 1;
		return want_u32(v, &m->truncated, err);
	case TAG_PATH:
		m->has_path = 1;
		return want_path(v, &m->path, err);
	}
	return 0;
}

int msg_decode_fs_done(const uint8_t *b, size_t n, struct msg_fs_done *m, const char **err)
{
	struct tlv_reader r;
	uint8_t tag;
	struct bytes v;
	int rc;
	memset(m, 0, sizeof(*m));
	tlv_init(&r, b, n);
	while ((rc = tlv_next(&r, &tag, &v, err)) == 1)
		if (done_field(m, tag, v, err) < 0)
			return -1;
	return rc;
}

long msg_encode_fs_done(uint8_t *out, size_t cap, const struct msg_fs_done *m)
{
	struct tlv_writer w;
	tlv_writer_init(&w, out, cap);
	if (m->has_path)
		tlv_put_bytes(&w, TAG_PATH, m->path);
	if (m->has_size)
		tlv_put_u64(&w, TAG_SIZE, m->size);
	if (m->has_count)
		tlv_put_u32(&w, TAG_COUNT, m->count);
	if (m->has_truncated)
		tlv_put_u32(&w, TAG_TRUNCATED, m->truncated);
	return tlv_end(&w);
}
