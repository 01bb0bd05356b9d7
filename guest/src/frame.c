/* Frame and TLV codec. Every read is bounds-checked against the body length,
 * so a hostile or corrupt peer can only make a decoder fail, never overread. */
#include "frame.h"
#include "fsmsg.h"
#include "sysmsg.h"

#include <stdlib.h>
#include <string.h>

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int type_known(uint8_t type)
{
	switch (type) {
	case T_HELLO: case T_HELLO_ACK: case T_PING: case T_PONG: case T_SHUTDOWN:
	case T_SHUTDOWN_ACK: case T_IDENTIFY: case T_IDENTIFIED: case T_QUIESCE: case T_QUIESCED:
	case T_FREEZE: case T_FROZEN: case T_THAW: case T_THAWED: case T_EXEC: case T_STDIN: case T_SIGNAL: case T_RESIZE: case T_STARTED:
	case T_STDOUT: case T_STDERR: case T_EXIT: case T_CONNECT: case T_CONNECTED: case T_CLOSED:
	case T_ACK:
	case T_FS_LIST: case T_FS_READ: case T_FS_WRITE: case T_FS_MKDIR: case T_FS_REMOVE:
	case T_FS_RENAME: case T_FS_CHMOD: case T_FS_REALPATH: case T_FS_LINK:
	case T_FS_ENTRIES: case T_FS_DATA: case T_FS_DONE:
	case T_ERROR:
		return 1;
	}
	return 0;
}

int frame_header_parse(const uint8_t *h, struct frame *f, const char **err)
{
	f->len = get_u32(h);
	f->stream = get_u32(h + 4);
	f->type = h[8];
	f->flags = h[9];
	f->body = NULL;
	if (f->len > MAX_BODY) {
		*err = "frame too large";
		return -1;
	}
	if (h[10] != 0 || h[11] != 0) {
		*err = "reserved header bytes are not zero";
		return -1;
	}
	if (!type_known(f->type)) {
		*err = "unknown frame type";
		return -1;
	}
	/* Unknown flag bits are ignored: docs/protocol.md does not forbid them. */
	return 0;
}

void frame_header_encode(uint8_t *h, uint32_t len, uint32_t stream, uint8_t type, uint8_t flags)
{
	put_u32(h, len);
	put_u32(h + 4, stream);
	h[8] = type;
	h[9] = flags;
	h[10] = 0;
	h[11] = 0;
}

int frame_decode(const uint8_t *buf, size_t n, struct frame *f, const char **err)
{
	if (n < HEADER_SIZE) {
		*err = "short frame";
		return -1;
	}
	if (frame_header_parse(buf, f, err) < 0)
		return -1;
	if (n - HEADER_SIZE != f->len) {
		*err = "frame length mismatch";
		return -1;
	}
	f->body = buf + HEADER_SIZE;
	return 0;
}

size_t frame_encode(uint8_t *out, size_t cap, uint32_t stream, uint8_t type, uint8_t flags,
		    const uint8_t *body, size_t len)
{
	if (len > MAX_BODY || cap < HEADER_SIZE + len)
		return 0;
	frame_header_encode(out, (uint32_t)len, stream, type, flags);
	if (len)
		memmove(out + HEADER_SIZE, body, len);
	return HEADER_SIZE + len;
}

void tlv_init(struct tlv_reader *r, const uint8_t *p, size_t n)
{
	r->p = p;
	r->n = n;
	r->off = 0;
}

int tlv_next(struct tlv_reader *r, uint8_t *tag, struct bytes *val, const char **err)
{
	if (r->off >= r->n)
		return 0;
	if (r->n - r->off < 5) {
		*err = "truncated field header";
		return -1;
	}
	uint32_t len = get_u32(r->p + r->off + 1);
	if (len > r->n - r->off - 5) {
		*err = "field runs past the body";
		return -1;
	}
	*tag = r->p[r->off];
	val->p = r->p + r->off + 5;
	val->n = len;
	r->off += 5 + (size_t)len;
	return 1;
}

void tlv_writer_init(struct tlv_writer *w, uint8_t *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->len = 0;
	w->overflow = 0;
}

void tlv_put(struct tlv_writer *w, uint8_t tag, const void *val, uint32_t len)
{
	if (w->overflow || w->cap - w->len < 5 || w->cap - w->len - 5 < len) {
		w->overflow = 1;
		return;
	}
	w->buf[w->len] = tag;
	put_u32(w->buf + w->len + 1, len);
	if (len)
		memcpy(w->buf + w->len + 5, val, len);
	w->len += 5 + (size_t)len;
}

void tlv_put_u32(struct tlv_writer *w, uint8_t tag, uint32_t v)
{
	uint8_t b[4];
	put_u32(b, v);
	tlv_put(w, tag, b, 4);
}

void tlv_put_i32(struct tlv_writer *w, uint8_t tag, int32_t v)
{
	tlv_put_u32(w, tag, (uint32_t)v);
}

void tlv_put_u64(struct tlv_writer *w, uint8_t tag, uint64_t v)
{
	uint8_t b[8];
	put_u32(b, (uint32_t)(v >> 32));
	put_u32(b + 4, (uint32_t)v);
	tlv_put(w, tag, b, 8);
}

void tlv_put_str(struct tlv_writer *w, uint8_t tag, const char *s)
{
	tlv_put(w, tag, s, (uint32_t)strlen(s));
}

void tlv_put_bytes(struct tlv_writer *w, uint8_t tag, struct bytes b)
{
	tlv_put(w, tag, b.p, b.n);
}

long tlv_end(const struct tlv_writer *w)
{
	return w->overflow ? -1 : (long)w->len;
}

struct bytes bytes_of(const char *s)
{
	struct bytes b = { (const uint8_t *)s, (uint32_t)strlen(s) };
	return b;
}

int bytes_eq(struct bytes b, const char *s)
{
	size_t n = strlen(s);
	return b.n == n && (n == 0 || memcmp(b.p, s, n) == 0);
}

/* Field helpers: integers must have exactly their width; strings may not hold NUL
 * (they become C strings: argv, env, paths). */
int want_u32(struct bytes v, uint32_t *out, const char **err)
{
	if (v.n != 4) {
		*err = "integer field must be 4 bytes";
		return -1;
	}
	*out = get_u32(v.p);
	return 0;
}

int want_u64(struct bytes v, uint64_t *out, const char **err)
{
	if (v.n != 8) {
		*err = "integer field must be 8 bytes";
		return -1;
	}
	*out = (uint64_t)get_u32(v.p) << 32 | get_u32(v.p + 4);
	return 0;
}

int want_str(struct bytes v, struct bytes *out, const char **err)
{
	if (v.n && memchr(v.p, 0, v.n)) {
		*err = "string field contains NUL";
		return -1;
	}
	*out = v;
	return 0;
}

/* Iterates all fields, calling fn for each; stops on the first error. */
typedef int (*field_fn)(void *m, uint8_t tag, struct bytes v, const char **err);

static int each_field(const uint8_t *b, size_t n, void *m, field_fn fn, const char **err)
{
	struct tlv_reader r;
	uint8_t tag;
	struct bytes v;
	int rc;
	tlv_init(&r, b, n);
	while ((rc = tlv_next(&r, &tag, &v, err)) == 1)
		if (fn(m, tag, v, err) < 0)
			return -1;
	return rc;
}

struct hello_seen {
	struct msg_hello *m;
	int seen_version;
};

static int hello_field(void *sp, uint8_t tag, struct bytes v, const char **err)
{
	struct hello_seen *s = sp;
	switch (tag) {
	case TAG_VERSION:
		s->seen_version = 1;
		return want_u32(v, &s->m->version, err);
	case TAG_CLIENT:
		s->m->has_client = 1;
		return want_str(v, &s->m->client, err);
	case TAG_HOST_TIME_MS:
		s->m->has_host_time = 1;
		return want_u64(v, &s->m->host_time_ms, err);
	case TAG_RESUME:
		s->m->has_resume = 1;
		if (want_u32(v, &s->m->resume, err) < 0)
			return -1;
		if (s->m->resume > 1) {
			*err = "resume must be 0 or 1";
			return -1;
		}
		return 0;
	}
	return 0;
}

int msg_decode_hello(const uint8_t *b, size_t n, struct msg_hello *m, const char **err)
{
	struct hello_seen s = { m, 0 };
	memset(m, 0, sizeof(*m));
	if (each_field(b, n, &s, hello_field, err) < 0)
		return -1;
	if (!s.seen_version) {
		*err = "missing field version";
		return -1;
	}
	return 0;
}

struct ack_seen {
	struct msg_hello_ack *m;
	unsigned seen;
};

static int ack_field(void *sp, uint8_t tag, struct bytes v, const char **err)
{
	struct ack_seen *s = sp;
	if (tag >= TAG_VERSION && tag <= TAG_MODE)
		s->seen |= 1u << tag;
	switch (tag) {
	case TAG_VERSION: return want_u32(v, &s->m->version, err);
	case TAG_AGENT_VERSION: return want_str(v, &s->m->agent_version, err);
	case TAG_KERNEL_RELEASE: return want_str(v, &s->m->kernel_release, err);
	case TAG_MAX_BODY: return want_u32(v, &s->m->max_body, err);
	case TAG_MODE: return want_str(v, &s->m->mode, err);
	}
	return 0;
}

int msg_decode_hello_ack(const uint8_t *b, size_t n, struct msg_hello_ack *m, const char **err)
{
	struct ack_seen s = { m, 0 };
	memset(m, 0, sizeof(*m));
	if (each_field(b, n, &s, ack_field, err) < 0)
		return -1;
	unsigned need = 1u << TAG_VERSION | 1u << TAG_AGENT_VERSION | 1u << TAG_KERNEL_RELEASE |
			1u << TAG_MAX_BODY | 1u << TAG_MODE;
	if ((s.seen & need) != need) {
		*err = "missing field in HELLO_ACK";
		return -1;
	}
	if (!bytes_eq(m->mode, "guest") && !bytes_eq(m->mode, "host")) {
		*err = "mode must be guest or host";
		return -1;
	}
	return 0;
}

/* EXEC: first pass validates and counts repeated fields, second pass fills the arrays. */
static int exec_field(void *mp, uint8_t tag, struct bytes v, const char **err)
{
	struct msg_exec *m = mp;
	struct bytes s;
	switch (tag) {
	case TAG_ARG:
		if (want_str(v, &s, err) < 0)
			return -1;
		if (m->args)
			m->args[m->nargs] = s;
		m->nargs++;
		return 0;
	case TAG_ENV:
		if (want_str(v, &s, err) < 0)
			return -1;
		if (m->env)
			m->env[m->nenv] = s;
		m->nenv++;
		return 0;
	case TAG_SHELL:
		m->has_shell = 1;
		return want_str(v, &m->shell, err);
	case TAG_CWD:
		m->has_cwd = 1;
		return want_str(v, &m->cwd, err);
	case TAG_TIMEOUT_MS:
		m->has_timeout = 1;
		return want_u32(v, &m->timeout_ms, err);
	case TAG_STDIN:
		m->has_stdin = 1;
		return want_u32(v, &m->stdin_mode, err);
	case TAG_PTY_COLS:
		m->has_pty_cols = 1;
		return want_u32(v, &m->pty_cols, err);
	case TAG_PTY_ROWS:
		m->has_pty_rows = 1;
		return want_u32(v, &m->pty_rows, err);
	case TAG_UID:
		m->has_uid = 1;
		return want_u32(v, &m->uid, err);
	case TAG_GID:
		m->has_gid = 1;
		return want_u32(v, &m->gid, err);
	}
	return 0;
}

int msg_decode_exec(const uint8_t *b, size_t n, struct msg_exec *m, const char **err)
{
	memset(m, 0, sizeof(*m));
	if (each_field(b, n, m, exec_field, err) < 0)
		return -1;
	uint32_t nargs = m->nargs, nenv = m->nenv;
	/* A body of at most MAX_BODY bytes holds at most MAX_BODY/5 fields. */
	m->args = calloc(nargs + 1, sizeof(*m->args));
	m->env = calloc(nenv + 1, sizeof(*m->env));
	if (!m->args || !m->env) {
		msg_exec_free(m);
		*err = "out of memory";
		return -1;
	}
	m->nargs = m->nenv = 0;
	each_field(b, n, m, exec_field, err);
	return 0;
}

void msg_exec_free(struct msg_exec *m)
{
	free(m->args);
	free(m->env);
	m->args = m->env = NULL;
}

int msg_exec_pty(const struct msg_exec *m)
{
	return m->has_pty_cols && m->has_pty_rows;
}

struct resize_seen {
	struct msg_resize *m;
	int seen_cols, seen_rows;
};

static int resize_field(void *sp, uint8_t tag, struct bytes v, const char **err)
{
	struct resize_seen *s = sp;
	switch (tag) {
	case TAG_COLS:
		s->seen_cols = 1;
		return want_u32(v, &s->m->cols, err);
	case TAG_ROWS:
		s->seen_rows = 1;
		return want_u32(v, &s->m->rows, err);
	}
	return 0;
}

int msg_decode_resize(const uint8_t *b, size_t n, struct msg_resize *m, const char **err)
{
	struct resize_seen s = { m, 0, 0 };
	memset(m, 0, sizeof(*m));
	if (each_field(b, n, &s, resize_field, err) < 0)
		return -1;
	if (!s.seen_cols || !s.seen_rows) {
		*err = s.seen_cols ? "missing field rows" : "missing field cols";
		return -1;
	}
	return 0;
}

struct u32_want {
	uint8_t tag;
	int seen;
	uint32_t v;
};

static int u32_field(void *wp, uint8_t tag, struct bytes v, const char **err)
{
	struct u32_want *w = wp;
	if (tag != w->tag)
		return 0;
	w->seen = 1;
	return want_u32(v, &w->v, err);
}

int msg_decode_u32_msg(const uint8_t *b, size_t n, uint8_t tag, uint32_t *v, const char **err)
{
	struct u32_want w = { tag, 0, 0 };
	if (each_field(b, n, &w, u32_field, err) < 0)
		return -1;
	if (!w.seen) {
		*err = "missing required field";
		return -1;
	}
	*v = w.v;
	return 0;
}

struct exit_seen {
	struct msg_exit *m;
	int seen_code;
};

static int exit_field(void *sp, uint8_t tag, struct bytes v, const char **err)
{
	struct exit_seen *s = sp;
	uint32_t code;
	switch (tag) {
	case TAG_EXIT_CODE:
		s->seen_code = 1;
		if (want_u32(v, &code, err) < 0)
			return -1;
		s->m->exit_code = (int32_t)code;
		return 0;
	case TAG_SIGNAL: return want_u32(v, &s->m->signal, err);
	case TAG_TIMED_OUT: return want_u32(v, &s->m->timed_out, err);
	case TAG_DURATION_MS: return want_u32(v, &s->m->duration_ms, err);
	}
	return 0;
}

int msg_decode_exit(const uint8_t *b, size_t n, struct msg_exit *m, const char **err)
{
	struct exit_seen s = { m, 0 };
	memset(m, 0, sizeof(*m));
	if (each_field(b, n, &s, exit_field, err) < 0)
		return -1;
	if (!s.seen_code) {
		*err = "missing field exit_code";
		return -1;
	}
	return 0;
}

static int error_field(void *mp, uint8_t tag, struct bytes v, const char **err)
{
	struct msg_error *m = mp;
	switch (tag) {
	case TAG_ERROR_CODE: return want_str(v, &m->code, err);
	case TAG_ERROR_MESSAGE: return want_str(v, &m->message, err);
	}
	return 0;
}

int msg_decode_error(const uint8_t *b, size_t n, struct msg_error *m, const char **err)
{
	memset(m, 0, sizeof(*m));
	m->code = bytes_of("UNKNOWN");
	m->message = bytes_of("");
	return each_field(b, n, m, error_field, err) < 0 ? -1 : 0;
}

static int closed_field(void *mp, uint8_t tag, struct bytes v, const char **err)
{
	struct msg_closed *m = mp;
	if (tag != TAG_CLOSE_ERROR)
		return 0;
	m->has_error = 1;
	return want_str(v, &m->error, err);
}

int msg_decode_closed(const uint8_t *b, size_t n, struct msg_closed *m, const char **err)
{
	memset(m, 0, sizeof(*m));
	return each_field(b, n, m, closed_field, err) < 0 ? -1 : 0;
}

int msg_validate(uint8_t type, const uint8_t *b, size_t n, const char **err)
{
	union {
		struct msg_hello hello;
		struct msg_hello_ack ack;
		struct msg_exec exec;
		struct msg_exit exit;
		struct msg_error error;
		struct msg_resize resize;
		struct msg_closed closed;
		struct msg_fs fs;
		struct msg_fs_done done;
		struct msg_identify identify;
		uint32_t u;
	} m;
	switch (type) {
	case T_HELLO: return msg_decode_hello(b, n, &m.hello, err);
	case T_HELLO_ACK: return msg_decode_hello_ack(b, n, &m.ack, err);
	case T_EXEC:
		if (msg_decode_exec(b, n, &m.exec, err) < 0)
			return -1;
		msg_exec_free(&m.exec);
		return 0;
	case T_SIGNAL: return msg_decode_u32_msg(b, n, TAG_SIGNO, &m.u, err);
	case T_RESIZE: return msg_decode_resize(b, n, &m.resize, err);
	case T_STARTED: return msg_decode_u32_msg(b, n, TAG_PID, &m.u, err);
	case T_EXIT: return msg_decode_exit(b, n, &m.exit, err);
	case T_ERROR: return msg_decode_error(b, n, &m.error, err);
	case T_CONNECT: return msg_decode_u32_msg(b, n, TAG_PORT, &m.u, err);
	case T_ACK: return msg_decode_u32_msg(b, n, TAG_ACK_BYTES, &m.u, err);
	case T_CLOSED: return msg_decode_closed(b, n, &m.closed, err);
	case T_FS_LIST: case T_FS_READ: case T_FS_WRITE: case T_FS_MKDIR: case T_FS_REMOVE:
	case T_FS_RENAME: case T_FS_CHMOD: case T_FS_REALPATH: case T_FS_LINK:
		return msg_decode_fs(type, b, n, &m.fs, err);
	case T_FS_ENTRIES: return msg_decode_fs_entries(b, n, NULL, NULL, err);
	case T_FS_DONE: return msg_decode_fs_done(b, n, &m.done, err);
	case T_IDENTIFY: return msg_decode_identify(b, n, &m.identify, err);
	case T_FREEZE: return msg_decode_freeze(b, n, &m.u, err);
	case T_FS_DATA:
	case T_IDENTIFIED: case T_QUIESCE: case T_QUIESCED: case T_FROZEN: case T_THAW: case T_THAWED:
	case T_SHUTDOWN: case T_SHUTDOWN_ACK: case T_CONNECTED:
	case T_PING: case T_PONG: case T_STDIN: case T_STDOUT: case T_STDERR:
		return 0; /* raw bytes (or ignored) */
	}
	*err = "unknown frame type";
	return -1;
}

long msg_encode_hello(uint8_t *out, size_t cap, const struct msg_hello *m)
{
	struct tlv_writer w;
	tlv_writer_init(&w, out, cap);
	tlv_put_u32(&w, TAG_VERSION, m->version);
	if (m->has_client)
		tlv_put_bytes(&w, TAG_CLIENT, m->client);
	if (m->has_host_time)
		tlv_put_u64(&w, TAG_HOST_TIME_MS, m->host_time_ms);
	if (m->has_resume)
		tlv_put_u32(&w, TAG_RESUME, m->resume);
	return tlv_end(&w);
}

long msg_encode_hello_ack(uint8_t *out, size_t cap, const struct msg_hello_ack *m)
{
	struct tlv_writer w;
	tlv_writer_init(&w, out, cap);
	tlv_put_u32(&w, TAG_VERSION, m->version);
	tlv_put_bytes(&w, TAG_AGENT_VERSION, m->agent_version);
	tlv_put_bytes(&w, TAG_KERNEL_RELEASE, m->kernel_release);
	tlv_put_u32(&w, TAG_MAX_BODY, m->max_body);
	tlv_put_bytes(&w, TAG_MODE, m->mode);
	return tlv_end(&w);
}

long msg_encode_exec(uint8_t *out, size_t cap, const struct msg_exec *m)
{
	struct tlv_writer w;
	tlv_writer_init(&w, out, cap);
	for (uint32_t i = 0; i < m->nargs; i++)
		tlv_put_bytes(&w, TAG_ARG, m->args[i]);
	if (m->has_shell)
		tlv_put_bytes(&w, TAG_SHELL, m->shell);
	for (uint32_t i = 0; i < m->nenv; i++)
		tlv_put_bytes(&w, TAG_ENV, m->env[i]);
	if (m->has_cwd)
		tlv_put_bytes(&w, TAG_CWD, m->cwd);
	if (m->has_timeout)
		tlv_put_u32(&w, TAG_TIMEOUT_MS, m->timeout_ms);
	if (m->has_stdin)
		tlv_put_u32(&w, TAG_STDIN, m->stdin_mode);
	if (m->has_pty_cols)
		tlv_put_u32(&w, TAG_PTY_COLS, m->pty_cols);
	if (m->has_pty_rows)
		tlv_put_u32(&w, TAG_PTY_ROWS, m->pty_rows);
	if (m->has_uid)
		tlv_put_u32(&w, TAG_UID, m->uid);
	if (m->has_gid)
		tlv_put_u32(&w, TAG_GID, m->gid);
	return tlv_end(&w);
}

long msg_encode_resize(uint8_t *out, size_t cap, const struct msg_resize *m)
{
	struct tlv_writer w;
	tlv_writer_init(&w, out, cap);
	tlv_put_u32(&w, TAG_COLS, m->cols);
	tlv_put_u32(&w, TAG_ROWS, m->rows);
	return tlv_end(&w);
}

long msg_encode_u32_msg(uint8_t *out, size_t cap, uint8_t tag, uint32_t v)
{
	struct tlv_writer w;
	tlv_writer_init(&w, out, cap);
	tlv_put_u32(&w, tag, v);
	return tlv_end(&w);
}

long msg_encode_exit(uint8_t *out, size_t cap, const struct msg_exit *m)
{
	struct tlv_writer w;
	tlv_writer_init(&w, out, cap);
	tlv_put_i32(&w, TAG_EXIT_CODE, m->exit_code);
	tlv_put_u32(&w, TAG_SIGNAL, m->signal);
	tlv_put_u32(&w, TAG_TIMED_OUT, m->timed_out);
	tlv_put_u32(&w, TAG_DURATION_MS, m->duration_ms);
	return tlv_end(&w);
}

long msg_encode_error(uint8_t *out, size_t cap, const struct msg_error *m)
{
	struct tlv_writer w;
	tlv_writer_init(&w, out, cap);
	tlv_put_bytes(&w, TAG_ERROR_CODE, m->code);
	tlv_put_bytes(&w, TAG_ERROR_MESSAGE, m->message);
	return tlv_end(&w);
}

long msg_encode_closed(uint8_t *out, size_t cap, const struct msg_closed *m)
{
	struct tlv_writer w;
	tlv_writer_init(&w, out, cap);
	if (m->has_error)
		tlv_put_bytes(&w, TAG_CLOSE_ERROR, m->error);
	return tlv_end(&w);
}
