/* Codec tests: every golden vector in protocol/golden/frames.txt decodes to the
 * message described in docs (hard-coded below) and re-encodes to the same bytes;
 * every invalid_* vector is rejected; the TLV parser survives truncation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "fsmsg.h"
#include "sysmsg.h"
#include "check.h"



/* The message each valid vector must hold (see /docs and the TS golden tests). */
struct expect {
	const char *name;
	uint32_t stream;
	uint8_t type, flags;
	const char *raw; /* data messages: body bytes */
	size_t raw_len;
	struct msg_hello hello;
	struct msg_hello_ack ack;
	struct msg_exec exec;
	uint32_t u32; /* SIGNAL signo / STARTED pid / CONNECT port / FREEZE timeout */
	struct msg_exit exit;
	struct msg_error error;
	struct msg_resize resize;
	struct msg_closed closed;
	struct msg_fs fs;
	struct msg_fs_done done;
	struct fs_entry entries[2];
	int nentries;
	struct msg_identify identify;
	int seen;
};

static struct bytes B(const char *s)
{
	return bytes_of(s);
}

static struct bytes argv_git[] = { { (const uint8_t *)"git", 3 }, { (const uint8_t *)"--version", 9 } };
static struct bytes env_git[] = { { (const uint8_t *)"HOME=/root", 10 }, { (const uint8_t *)"PATH=/usr/bin:/bin", 18 } };
static struct bytes argv_id[] = { { (const uint8_t *)"id", 2 } };
static struct bytes env_pty[] = { { (const uint8_t *)"TERM=xterm-256color", 19 } };

static struct expect expects[96];
static uint8_t entropy_seq[32], entropy_a5[256];
static int nexpects;

static struct expect *add(const char *name, uint32_t stream, uint8_t type, uint8_t flags)
{
	struct expect *e = &expects[nexpects++];
	memset(e, 0, sizeof(*e));
	e->name = name;
	e->stream = stream;
	e->type = type;
	e->flags = flags;
	return e;
}

static void raw(struct expect *e, const char *p, size_t n)
{
	e->raw = p;
	e->raw_len = n;
}

static void build_expectations(void)
{
	struct expect *e;
	e = add("hello", 0, T_HELLO, 0);
	e->hello = (struct msg_hello){ 1, 1, B("pyro-test"), 1, 1700000000000ull, 0, 0 };
	e = add("hello_resume", 0, T_HELLO, 0);
	e->hello = (struct msg_hello){ 1, 1, B("pyro-supervisor"), 1, 1700000000000ull, 1, 1 };
	for (int i = 0; i < 32; i++)
		entropy_seq[i] = (uint8_t)i;
	memset(entropy_a5, 0xa5, sizeof(entropy_a5));
	e = add("identify", 0, T_IDENTIFY, 0);
	e->identify = (struct msg_identify){ B("pyro-3f2a9c"), B("0123456789abcdef0123456789abcdef"),
					     { entropy_seq, 32 }, 1, B("/dev/vdb") };
	e = add("identify_no_disk", 0, T_IDENTIFY, 0);
	e->identify = (struct msg_identify){ B("Sandbox-1"), B("ffffffffffffffffffffffffffffffff"),
					     { entropy_a5, 256 }, 0, { NULL, 0 } };
	raw(add("identified", 0, T_IDENTIFIED, 0), "", 0);
	raw(add("quiesce", 0, T_QUIESCE, 0), "", 0);
	raw(add("quiesced", 0, T_QUIESCED, 0), "", 0);
	add("freeze", 0, T_FREEZE, 0)->u32 = 10000;
	raw(add("frozen", 0, T_FROZEN, 0), "", 0);
	raw(add("thaw", 0, T_THAW, 0), "", 0);
	raw(add("thawed", 0, T_THAWED, 0), "", 0);
	add("error_not_a_mount", 0, T_ERROR, 0)->error = (struct msg_error){ B("NOT_A_MOUNT"), B("/workspace is not a mount point") };
	e = add("hello_ack", 0, T_HELLO_ACK, 0);
	e->ack = (struct msg_hello_ack){ 1, B("0.1.0"), B("6.1.0-test-cloud-amd64"), B("guest"), 65536 };
	raw(add("ping", 0, T_PING, 0), "\x00\x01\x02\xff", 4);
	raw(add("pong", 0, T_PONG, 0), "\x00\x01\x02\xff", 4);
	raw(add("shutdown", 0, T_SHUTDOWN, 0), "", 0);
	raw(add("shutdown_ack", 0, T_SHUTDOWN_ACK, 0), "", 0);
	e = add("exec_argv", 1, T_EXEC, 0);
	e->exec.nargs = 2;
	e->exec.args = argv_git;
	e->exec.nenv = 2;
	e->exec.env = env_git;
	e->exec.has_cwd = 1;
	e->exec.cwd = B("/workspace");
	e->exec.has_timeout = 1;
	e->exec.timeout_ms = 30000;
	e = add("exec_shell", 2, T_EXEC, 0);
	e->exec.has_shell = 1;
	e->exec.shell = B("echo hi >&2");
	e->exec.has_cwd = 1;
	e->exec.cwd = B("/");
	e->exec.has_timeout = 1;
	e->exec.timeout_ms = 0;
	e->exec.has_stdin = 1;
	e->exec.stdin_mode = 1;
	e = add("exec_user", 9, T_EXEC, 0);
	e->exec.nargs = 1;
	e->exec.args = argv_id;
	e->exec.has_uid = 1;
	e->exec.uid = 1000;
	e->exec.has_gid = 1;
	e->exec.gid = 1000;
	e = add("exec_pty", 5, T_EXEC, 0);
	e->exec.has_shell = 1;
	e->exec.shell = B("exec bash -i");
	e->exec.nenv = 1;
	e->exec.env = env_pty;
	e->exec.has_cwd = 1;
	e->exec.cwd = B("/workspace");
	e->exec.has_timeout = 1;
	e->exec.timeout_ms = 0;
	e->exec.has_stdin = 1;
	e->exec.stdin_mode = 1;
	e->exec.has_pty_cols = 1;
	e->exec.pty_cols = 120;
	e->exec.has_pty_rows = 1;
	e->exec.pty_rows = 30;
	add("resize", 5, T_RESIZE, 0)->resize = (struct msg_resize){ 80, 24 };
	raw(add("stdin_data", 3, T_STDIN, 0), "abc", 3);
	raw(add("stdin_end", 3, T_STDIN, FLAG_END), "", 0);
	add("signal", 1, T_SIGNAL, 0)->u32 = 15;
	add("started", 1, T_STARTED, 0)->u32 = 42;
	raw(add("stdout", 1, T_STDOUT, 0), "git version 2.39.5\n", 19);
	raw(add("stderr", 2, T_STDERR, 0), "hi\n", 3);
	add("exit_ok", 1, T_EXIT, 0)->exit = (struct msg_exit){ 0, 0, 0, 95 };
	add("exit_killed", 2, T_EXIT, 0)->exit = (struct msg_exit){ -1, 9, 1, 30000 };
	add("connect", 6, T_CONNECT, 0)->u32 = 8080;
	add("ack", 6, T_ACK, 0)->u32 = 65536;
	raw(add("connected", 6, T_CONNECTED, 0), "", 0);
	raw(add("stdout_end", 6, T_STDOUT, FLAG_END), "", 0);
	add("closed", 6, T_CLOSED, 0);
	add("closed_error", 7, T_CLOSED, 0)->closed = (struct msg_closed){ 1, B("Connection reset by peer") };
	add("error_stream", 4, T_ERROR, 0)->error = (struct msg_error){ B("CWD_NOT_FOUND"), B("no such directory: /nope") };
	add("error_conn", 0, T_ERROR, 0)->error = (struct msg_error){ B("BAD_FRAME"), B("frame too large") };

	e = add("fs_list", 8, T_FS_LIST, 0);
	e->fs = (struct msg_fs){ .path = B("src"), .scope = FS_RECURSIVE, .max_entries = 10001 };
	e = add("fs_read", 9, T_FS_READ, 0);
	e->fs = (struct msg_fs){ .path = B("a.txt"), .offset = 4096, .length = 65536, .scope = FS_CHILDREN };
	e = add("fs_write", 10, T_FS_WRITE, FLAG_END);
	e->fs = (struct msg_fs){ .path = B("bin/run"), .has_mode = 1, .mode = 0755, .parents = 1, .has_data = 1,
				 .data = B("#!/bin/sh\n"), .scope = FS_CHILDREN };
	e = add("fs_write_open", 11, T_FS_WRITE, 0);
	e->fs = (struct msg_fs){ .path = { (const uint8_t *)"n\xff\n", 3 }, .has_mtime = 1,
				 .mtime_ns = 1700000000123456789ull, .no_fsync = 1, .scope = FS_CHILDREN };
	raw(add("fs_data", 11, T_FS_DATA, 0), "\x00\x01\x02", 3);
	raw(add("fs_data_end", 11, T_FS_DATA, FLAG_END), "", 0);
	e = add("fs_mkdir", 12, T_FS_MKDIR, 0);
	e->fs = (struct msg_fs){ .path = B("a/b"), .has_mode = 1, .mode = 0700, .parents = 1, .scope = FS_CHILDREN };
	e = add("fs_remove", 13, T_FS_REMOVE, 0);
	e->fs = (struct msg_fs){ .path = B("build"), .recursive = 1, .scope = FS_CHILDREN };
	e = add("fs_rename", 14, T_FS_RENAME, 0);
	e->fs = (struct msg_fs){ .path = B("old"), .target = B("new"), .scope = FS_CHILDREN };
	e = add("fs_chmod", 15, T_FS_CHMOD, 0);
	e->fs = (struct msg_fs){ .path = B("run.sh"), .has_mode = 1, .mode = 04755, .scope = FS_CHILDREN };
	e = add("fs_realpath", 16, T_FS_REALPATH, 0);
	e->fs = (struct msg_fs){ .path = B("link/.."), .scope = FS_CHILDREN };
	e = add("fs_link", 17, T_FS_LINK, 0);
	e->fs = (struct msg_fs){ .path = B("current"), .target = B("../v2"), .scope = FS_CHILDREN };
	e = add("fs_entries", 8, T_FS_ENTRIES, 0);
	e->nentries = 2;
	e->entries[0] = (struct fs_entry){ .name = B("src/main.c"), .type = FS_FILE, .mode = 0644, .size = 1234,
					   .mtime_ns = 1700000000000000000ull };
	e->entries[1] = (struct fs_entry){ .name = B("src/cur"), .type = FS_SYMLINK, .mode = 0777, .size = 5,
					   .mtime_ns = 1, .uid = 1000, .gid = 1000, .has_link = 1, .link = B("../v2") };
	raw(add("fs_read_data", 9, T_FS_DATA, 0), "hello\n", 6);
	add("fs_done_list", 8, T_FS_DONE, 0)->done = (struct msg_fs_done){ .has_count = 1, .count = 2,
									 .has_truncated = 1, .truncated = 1 };
	add("fs_done_read", 9, T_FS_DONE, 0)->done = (struct msg_fs_done){ .has_size = 1, .size = 70000 };
	add("fs_done_realpath", 16, T_FS_DONE, 0)->done = (struct msg_fs_done){ .has_path = 1, .path = B("") };
	add("fs_done", 13, T_FS_DONE, 0);
	add("fs_error", 14, T_ERROR, 0)->error = (struct msg_error){ B("OUTSIDE_ROOT"), B("old: Invalid cross-device link") };
}

static int is_fs_request(uint8_t t)
{
	return t >= T_FS_LIST && t <= T_FS_LINK;
}

static long encode_entries(const struct fs_entry *es, int n, uint8_t *out, size_t cap)
{
	struct tlv_writer w;
	tlv_writer_init(&w, out, cap);
	for (int i = 0; i < n; i++)
		if (fs_entry_put(&w, &es[i]) < 0)
			return -1;
	return tlv_end(&w);
}

struct entry_list {
	struct fs_entry e[4];
	int n;
};

static int collect_entry(void *ctx, const struct fs_entry *e)
{
	struct entry_list *l = ctx;
	if (l->n == 4)
		return -1;
	l->e[l->n++] = *e;
	return 0;
}

static int beq(struct bytes a, struct bytes b)
{
	return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

static int vec_eq(const struct bytes *a, uint32_t na, const struct bytes *b, uint32_t nb)
{
	if (na != nb)
		return 0;
	for (uint32_t i = 0; i < na; i++)
		if (!beq(a[i], b[i]))
			return 0;
	return 1;
}

/* Encodes the expected message body; returns its length or -1. */
static long encode_expected(const struct expect *e, uint8_t *out, size_t cap)
{
	switch (e->type) {
	case T_HELLO: return msg_encode_hello(out, cap, &e->hello);
	case T_IDENTIFY: return msg_encode_identify(out, cap, &e->identify);
	case T_FREEZE: return msg_encode_u32_msg(out, cap, TAG_TIMEOUT_MS, e->u32);
	case T_HELLO_ACK: return msg_encode_hello_ack(out, cap, &e->ack);
	case T_EXEC: return msg_encode_exec(out, cap, &e->exec);
	case T_SIGNAL: return msg_encode_u32_msg(out, cap, TAG_SIGNO, e->u32);
	case T_RESIZE: return msg_encode_resize(out, cap, &e->resize);
	case T_STARTED: return msg_encode_u32_msg(out, cap, TAG_PID, e->u32);
	case T_CONNECT: return msg_encode_u32_msg(out, cap, TAG_PORT, e->u32);
	case T_ACK: return msg_encode_u32_msg(out, cap, TAG_ACK_BYTES, e->u32);
	case T_CLOSED: return msg_encode_closed(out, cap, &e->closed);
	case T_EXIT: return msg_encode_exit(out, cap, &e->exit);
	case T_ERROR: return msg_encode_error(out, cap, &e->error);
	case T_FS_ENTRIES: return encode_entries(e->entries, e->nentries, out, cap);
	case T_FS_DONE: return msg_encode_fs_done(out, cap, &e->done);
	default:
		if (is_fs_request(e->type))
			return msg_encode_fs(e->type, out, cap, &e->fs);
		if (e->raw_len > cap)
			return -1;
		memcpy(out, e->raw, e->raw_len);
		return (long)e->raw_len;
	}
}

/* Decodes the golden body with the typed decoder, compares with the expectation,
 * and re-encodes the decoded message into out. */
static long decode_compare_reencode(const struct expect *e, const struct frame *f, uint8_t *out, size_t cap)
{
	const char *err = "";
	long len = -1;
	switch (e->type) {
	case T_HELLO: {
		struct msg_hello m;
		CHECK(msg_decode_hello(f->body, f->len, &m, &err) == 0, "%s: decode: %s", e->name, err);
		CHECK(m.version == e->hello.version && m.has_client == e->hello.has_client &&
			      beq(m.client, e->hello.client) && m.has_host_time == e->hello.has_host_time &&
			      m.host_time_ms == e->hello.host_time_ms && m.has_resume == e->hello.has_resume &&
			      m.resume == e->hello.resume,
		      "%s: fields differ", e->name);
		len = msg_encode_hello(out, cap, &m);
		break;
	}
	case T_IDENTIFY: {
		struct msg_identify m;
		const struct msg_identify *x = &e->identify;
		CHECK(msg_decode_identify(f->body, f->len, &m, &err) == 0, "%s: decode: %s", e->name, err);
		CHECK(beq(m.hostname, x->hostname) && beq(m.machine_id, x->machine_id) && beq(m.entropy, x->entropy) &&
			      m.has_workspace_device == x->has_workspace_device &&
			      (!m.has_workspace_device || beq(m.workspace_device, x->workspace_device)),
		      "%s: fields differ", e->name);
		len = msg_encode_identify(out, cap, &m);
		break;
	}
	case T_FREEZE: {
		uint32_t v = 0;
		CHECK(msg_decode_freeze(f->body, f->len, &v, &err) == 0, "%s: decode: %s", e->name, err);
		CHECK(v == e->u32, "%s: timeout %u, want %u", e->name, v, e->u32);
		len = msg_encode_u32_msg(out, cap, TAG_TIMEOUT_MS, v);
		break;
	}
	case T_HELLO_ACK: {
		struct msg_hello_ack m;
		CHECK(msg_decode_hello_ack(f->body, f->len, &m, &err) == 0, "%s: decode: %s", e->name, err);
		CHECK(m.version == e->ack.version && beq(m.agent_version, e->ack.agent_version) &&
			      beq(m.kernel_release, e->ack.kernel_release) && m.max_body == e->ack.max_body &&
			      beq(m.mode, e->ack.mode),
		      "%s: fields differ", e->name);
		len = msg_encode_hello_ack(out, cap, &m);
		break;
	}
	case T_EXEC: {
		struct msg_exec m;
		const struct msg_exec *x = &e->exec;
		if (msg_decode_exec(f->body, f->len, &m, &err) < 0) {
			CHECK(0, "%s: decode: %s", e->name, err);
			return -1;
		}
		passed++;
		CHECK(vec_eq(m.args, m.nargs, x->args, x->nargs), "%s: args differ", e->name);
		CHECK(vec_eq(m.env, m.nenv, x->env, x->nenv), "%s: env differs", e->name);
		CHECK(m.has_shell == x->has_shell && (!m.has_shell || beq(m.shell, x->shell)), "%s: shell differs", e->name);
		CHECK(m.has_cwd == x->has_cwd && (!m.has_cwd || beq(m.cwd, x->cwd)), "%s: cwd differs", e->name);
		CHECK(m.has_timeout == x->has_timeout && m.timeout_ms == x->timeout_ms, "%s: timeout differs", e->name);
		CHECK(m.has_stdin == x->has_stdin && m.stdin_mode == x->stdin_mode, "%s: stdin differs", e->name);
		CHECK(m.has_pty_cols == x->has_pty_cols && m.pty_cols == x->pty_cols && m.has_pty_rows == x->has_pty_rows &&
			      m.pty_rows == x->pty_rows,
		      "%s: pty size differs (%u x %u)", e->name, m.pty_cols, m.pty_rows);
		CHECK(msg_exec_pty(&m) == (x->has_pty_cols && x->has_pty_rows), "%s: terminal wanted?", e->name);
		CHECK(m.has_uid == x->has_uid && m.uid == x->uid && m.has_gid == x->has_gid && m.gid == x->gid,
		      "%s: user differs (%u:%u)", e->name, m.uid, m.gid);
		len = msg_encode_exec(out, cap, &m);
		msg_exec_free(&m);
		break;
	}
	case T_SIGNAL:
	case T_STARTED:
	case T_CONNECT:
	case T_ACK: {
		uint32_t v = 0;
		uint8_t tag = e->type == T_SIGNAL    ? TAG_SIGNO
			      : e->type == T_STARTED ? TAG_PID
			      : e->type == T_CONNECT ? TAG_PORT
						     : TAG_ACK_BYTES;
		CHECK(msg_decode_u32_msg(f->body, f->len, tag, &v, &err) == 0, "%s: decode: %s", e->name, err);
		CHECK(v == e->u32, "%s: value %u, want %u", e->name, v, e->u32);
		len = msg_encode_u32_msg(out, cap, tag, v);
		break;
	}
	case T_RESIZE: {
		struct msg_resize m;
		CHECK(msg_decode_resize(f->body, f->len, &m, &err) == 0, "%s: decode: %s", e->name, err);
		CHECK(m.cols == e->resize.cols && m.rows == e->resize.rows, "%s: size %u x %u, want %u x %u", e->name,
		      m.cols, m.rows, e->resize.cols, e->resize.rows);
		len = msg_encode_resize(out, cap, &m);
		break;
	}
	case T_EXIT: {
		struct msg_exit m;
		CHECK(msg_decode_exit(f->body, f->len, &m, &err) == 0, "%s: decode: %s", e->name, err);
		CHECK(m.exit_code == e->exit.exit_code && m.signal == e->exit.signal &&
			      m.timed_out == e->exit.timed_out && m.duration_ms == e->exit.duration_ms,
		      "%s: fields differ (%d %u %u %u)", e->name, m.exit_code, m.signal, m.timed_out, m.duration_ms);
		len = msg_encode_exit(out, cap, &m);
		break;
	}
	case T_CLOSED: {
		struct msg_closed m;
		CHECK(msg_decode_closed(f->body, f->len, &m, &err) == 0, "%s: decode: %s", e->name, err);
		CHECK(m.has_error == e->closed.has_error && (!m.has_error || beq(m.error, e->closed.error)),
		      "%s: fields differ", e->name);
		len = msg_encode_closed(out, cap, &m);
		break;
	}
	case T_ERROR: {
		struct msg_error m;
		CHECK(msg_decode_error(f->body, f->len, &m, &err) == 0, "%s: decode: %s", e->name, err);
		CHECK(beq(m.code, e->error.code) && beq(m.message, e->error.message), "%s: fields differ", e->name);
		len = msg_encode_error(out, cap, &m);
		break;
	}
	case T_FS_LIST: case T_FS_READ: case T_FS_WRITE: case T_FS_MKDIR: case T_FS_REMOVE:
	case T_FS_RENAME: case T_FS_CHMOD: case T_FS_REALPATH: case T_FS_LINK: {
		struct msg_fs m;
		const struct msg_fs *x = &e->fs;
		CHECK(msg_decode_fs(e->type, f->body, f->len, &m, &err) == 0, "%s: decode: %s", e->name, err);
		CHECK(beq(m.path, x->path) && beq(m.target, x->target) && m.has_mode == x->has_mode && m.mode == x->mode &&
			      m.scope == x->scope && m.max_entries == x->max_entries && m.offset == x->offset &&
			      m.length == x->length && m.parents == x->parents && m.recursive == x->recursive &&
			      m.hard == x->hard && m.has_mtime == x->has_mtime && m.mtime_ns == x->mtime_ns &&
			      m.has_data == x->has_data && beq(m.data, x->data) && m.no_fsync == x->no_fsync,
		      "%s: fields differ", e->name);
		len = msg_encode_fs(e->type, out, cap, &m);
		break;
	}
	case T_FS_ENTRIES: {
		struct entry_list l = { .n = 0 };
		CHECK(msg_decode_fs_entries(f->body, f->len, collect_entry, &l, &err) == 0, "%s: decode: %s", e->name, err);
		CHECK(l.n == e->nentries, "%s: %d entries", e->name, l.n);
		for (int i = 0; i < l.n && i < e->nentries; i++) {
			const struct fs_entry *a = &l.e[i], *b = &e->entries[i];
			CHECK(beq(a->name, b->name) && a->type == b->type && a->mode == b->mode && a->size == b->size &&
				      a->mtime_ns == b->mtime_ns && a->uid == b->uid && a->gid == b->gid &&
				      a->has_link == b->has_link && beq(a->link, b->link),
			      "%s: entry %d differs", e->name, i);
		}
		len = encode_entries(l.e, l.n, out, cap);
		break;
	}
	case T_FS_DONE: {
		struct msg_fs_done m;
		const struct msg_fs_done *x = &e->done;
		CHECK(msg_decode_fs_done(f->body, f->len, &m, &err) == 0, "%s: decode: %s", e->name, err);
		CHECK(m.has_size == x->has_size && m.size == x->size && m.has_count == x->has_count &&
			      m.count == x->count && m.has_truncated == x->has_truncated && m.truncated == x->truncated &&
			      m.has_path == x->has_path && beq(m.path, x->path),
		      "%s: fields differ", e->name);
		len = msg_encode_fs_done(out, cap, &m);
		break;
	}
	default:
		CHECK(f->len == e->raw_len && (f->len == 0 || memcmp(f->body, e->raw, f->len) == 0),
		      "%s: raw body differs", e->name);
		if (f->len <= cap) {
			memcpy(out, f->body, f->len);
			len = (long)f->len;
		}
	}
	return len;
}

static int unhex(const char *s, uint8_t *out, size_t cap, size_t *n)
{
	size_t len = strlen(s);
	if (len % 2 || len / 2 > cap)
		return -1;
	for (size_t i = 0; i < len / 2; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	*n = len / 2;
	return 0;
}

static uint8_t buf[HEADER_SIZE + MAX_BODY + 16], enc[HEADER_SIZE + MAX_BODY], body[MAX_BODY];

static void check_valid(struct expect *e, const uint8_t *bytes, size_t n)
{
	struct frame f;
	const char *err = "";
	e->seen = 1;
	if (frame_decode(bytes, n, &f, &err) < 0) {
		CHECK(0, "%s: frame rejected: %s", e->name, err);
		return;
	}
	passed++;
	CHECK(f.stream == e->stream && f.type == e->type && f.flags == e->flags,
	      "%s: header stream=%u type=%#x flags=%#x", e->name, f.stream, f.type, f.flags);
	CHECK(msg_validate(f.type, f.body, f.len, &err) == 0, "%s: body rejected: %s", e->name, err);

	/* Re-encode what we decoded: must give the same bytes. */
	long blen = decode_compare_reencode(e, &f, body, sizeof(body));
	size_t flen = blen < 0 ? 0 : frame_encode(enc, sizeof(enc), f.stream, f.type, f.flags, body, (size_t)blen);
	CHECK(flen == n && memcmp(enc, bytes, n) == 0, "%s: re-encoding differs", e->name);

	/* Encode the hard-coded expectation from scratch: same bytes again. */
	blen = encode_expected(e, body, sizeof(body));
	flen = blen < 0 ? 0 : frame_encode(enc, sizeof(enc), e->stream, e->type, e->flags, body, (size_t)blen);
	CHECK(flen == n && memcmp(enc, bytes, n) == 0, "%s: encoding the expectation differs", e->name);
}

static void check_invalid(const char *name, const uint8_t *bytes, size_t n)
{
	struct frame f;
	const char *err = "";
	int rejected = frame_decode(bytes, n, &f, &err) < 0 || msg_validate(f.type, f.body, f.len, &err) < 0;
	/* A header-only vector (oversize) must already fail on the header alone. */
	if (n >= HEADER_SIZE && !rejected) {
		struct frame h;
		rejected = frame_header_parse(bytes, &h, &err) < 0;
	}
	CHECK(rejected, "%s: accepted but must be rejected", name);
}

static void check_golden(const char *path)
{
	FILE *fp = fopen(path, "r");
	if (!fp) {
		CHECK(0, "cannot open %s", path);
		return;
	}
	static char line[2 * (HEADER_SIZE + MAX_BODY) + 256];
	int ninvalid = 0;
	while (fgets(line, sizeof(line), fp)) {
		line[strcspn(line, "\r\n")] = 0;
		if (!line[0] || line[0] == '#')
			continue;
		char *sp = strchr(line, ' ');
		size_t n;
		if (!sp || unhex(sp + 1, buf, sizeof(buf), &n) < 0) {
			CHECK(0, "bad line: %.40s", line);
			continue;
		}
		*sp = 0;
		if (!strncmp(line, "invalid_", 8)) {
			ninvalid++;
			check_invalid(line, buf, n);
			continue;
		}
		struct expect *e = NULL;
		for (int i = 0; i < nexpects; i++)
			if (!strcmp(expects[i].name, line))
				e = &expects[i];
		CHECK(e != NULL, "%s: no expectation for this vector", line);
		if (e)
			check_valid(e, buf, n);
	}
	fclose(fp);
	for (int i = 0; i < nexpects; i++)
		CHECK(expects[i].seen, "%s: missing from %s", expects[i].name, path);
	CHECK(ninvalid >= 5, "only %d invalid vectors", ninvalid);
}

/* Every strict prefix of a TLV body either ends on a field boundary (fewer fields)
 * or is rejected; nothing reads past the end. */
static void check_truncation(void)
{
	uint8_t b[256];
	struct bytes args[] = { B("ls"), B("-l") };
	struct msg_exec m = { .nargs = 2, .args = args, .has_cwd = 1, .cwd = B("/tmp"), .has_timeout = 1, .timeout_ms = 5 };
	long n = msg_encode_exec(b, sizeof(b), &m);
	CHECK(n > 0, "encode exec");
	size_t bounds[] = { 0, 7, 14, 23, (size_t)n };
	for (long cut = 0; cut <= n; cut++) {
		int boundary = 0;
		for (size_t i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++)
			boundary |= bounds[i] == (size_t)cut;
		/* Copy to an exact-size heap block so a sanitizer/valgrind would catch overreads. */
		uint8_t *p = malloc((size_t)cut + 1);
		memcpy(p, b, (size_t)cut);
		struct tlv_reader r;
		uint8_t tag;
		struct bytes v;
		const char *err;
		int rc, fields = 0;
		tlv_init(&r, p, (size_t)cut);
		while ((rc = tlv_next(&r, &tag, &v, &err)) == 1)
			fields++;
		CHECK(boundary ? rc == 0 : rc < 0, "tlv cut at %ld: rc=%d", cut, rc);
		struct msg_exec d;
		int drc = msg_decode_exec(p, (size_t)cut, &d, &err);
		CHECK(boundary ? drc == 0 : drc < 0, "exec cut at %ld: rc=%d", cut, drc);
		if (drc == 0)
			msg_exec_free(&d);
		free(p);
	}

	/* A length near 2^32 must not wrap the bounds check. */
	uint8_t huge[] = { 0x10, 0xff, 0xff, 0xff, 0xff, 'x' };
	struct tlv_reader r;
	uint8_t tag;
	struct bytes v;
	const char *err;
	tlv_init(&r, huge, sizeof(huge));
	CHECK(tlv_next(&r, &tag, &v, &err) < 0, "huge field length accepted");

	/* Integer widths, NUL in strings, required fields. */
	uint8_t shortint[] = { TAG_SIGNO, 0, 0, 0, 3, 0, 0, 15 };
	uint32_t u;
	CHECK(msg_decode_u32_msg(shortint, sizeof(shortint), TAG_SIGNO, &u, &err) < 0, "3-byte u32 accepted");
	uint8_t nul[] = { TAG_ARG, 0, 0, 0, 3, 'a', 0, 'b' };
	struct msg_exec d;
	CHECK(msg_decode_exec(nul, sizeof(nul), &d, &err) < 0, "NUL in arg accepted");
	CHECK(msg_decode_u32_msg(NULL, 0, TAG_SIGNO, &u, &err) < 0, "SIGNAL without signo accepted");
	CHECK(msg_validate(T_CONNECT, NULL, 0, &err) < 0, "CONNECT without port accepted");
	uint8_t closed_nul[] = { TAG_CLOSE_ERROR, 0, 0, 0, 3, 'a', 0, 'b' };
	CHECK(msg_validate(T_CLOSED, closed_nul, sizeof(closed_nul), &err) < 0, "NUL in CLOSED error accepted");
	struct msg_hello h;
	CHECK(msg_decode_hello(NULL, 0, &h, &err) < 0, "HELLO without version accepted");
	uint8_t badtime[] = { TAG_VERSION, 0, 0, 0, 4, 0, 0, 0, 1, TAG_HOST_TIME_MS, 0, 0, 0, 4, 0, 0, 0, 1 };
	CHECK(msg_decode_hello(badtime, sizeof(badtime), &h, &err) < 0, "4-byte u64 accepted");
	/* RESIZE needs both fields; EXEC wants a terminal only with both sizes. */
	struct msg_resize rs;
	uint8_t cols_only[] = { TAG_COLS, 0, 0, 0, 4, 0, 0, 0, 80 };
	uint8_t rows_only[] = { TAG_ROWS, 0, 0, 0, 4, 0, 0, 0, 24 };
	CHECK(msg_decode_resize(cols_only, sizeof(cols_only), &rs, &err) < 0, "RESIZE without rows accepted");
	CHECK(msg_decode_resize(rows_only, sizeof(rows_only), &rs, &err) < 0, "RESIZE without cols accepted");
	CHECK(msg_validate(T_RESIZE, NULL, 0, &err) < 0, "empty RESIZE accepted");
	uint8_t pty_half[] = { TAG_SHELL, 0, 0, 0, 1, 'x', TAG_PTY_COLS, 0, 0, 0, 4, 0, 0, 0, 80 };
	CHECK(msg_decode_exec(pty_half, sizeof(pty_half), &d, &err) == 0 && !msg_exec_pty(&d) && d.has_pty_cols,
	      "EXEC with pty_cols alone");
	msg_exec_free(&d);
	uint8_t pty_short[] = { TAG_SHELL, 0, 0, 0, 1, 'x', TAG_PTY_ROWS, 0, 0, 0, 2, 0, 24 };
	CHECK(msg_decode_exec(pty_short, sizeof(pty_short), &d, &err) < 0, "2-byte pty_rows accepted");
	/* Unknown tags are skipped. */
	uint8_t unk[] = { 0x7e, 0, 0, 0, 1, 'z', TAG_SIGNO, 0, 0, 0, 4, 0, 0, 0, 9 };
	CHECK(msg_decode_u32_msg(unk, sizeof(unk), TAG_SIGNO, &u, &err) == 0 && u == 9, "unknown tag not skipped");

	/* Truncated frames: every prefix of a frame is rejected by frame_decode. */
	uint8_t fr[HEADER_SIZE + 3];
	size_t fl = frame_encode(fr, sizeof(fr), 3, T_STDIN, 0, (const uint8_t *)"abc", 3);
	struct frame f;
	int bad = 0;
	for (size_t k = 0; k < fl; k++)
		bad += frame_decode(fr, k, &f, &err) == 0;
	CHECK(bad == 0 && frame_decode(fr, fl, &f, &err) == 0, "truncated frames accepted");
	CHECK(frame_encode(enc, sizeof(enc), 1, T_STDOUT, 0, body, MAX_BODY) == HEADER_SIZE + MAX_BODY, "max body");

	/* Writer overflow is reported, not written past. */
	struct tlv_writer w;
	uint8_t small[8];
	tlv_writer_init(&w, small, sizeof(small));
	tlv_put_u32(&w, 1, 1);
	CHECK(tlv_end(&w) < 0, "writer overflow not reported");
}

static long identify_body(uint8_t *out, size_t cap, const char *host, const char *id, size_t entropy,
			  const char *dev)
{
	static uint8_t ent[ENTROPY_MAX + 1];
	struct msg_identify m = { B(host), B(id), { ent, (uint32_t)entropy }, dev != NULL, dev ? B(dev) : B("") };
	return msg_encode_identify(out, cap, &m);
}

/* IDENTIFY and FREEZE against hostile bodies: every truncation, each bound on both sides,
 * repeated fields, NUL and other bytes outside the allowed sets. */
static void check_session_control(void)
{
	static uint8_t b[1024];
	const char *err;
	struct msg_identify m;
	const char *id = "0123456789abcdef0123456789abcdef";
	long n = identify_body(b, sizeof(b), "pyro", id, 32, NULL);
	CHECK(n > 0 && msg_decode_identify(b, (size_t)n, &m, &err) == 0, "minimal IDENTIFY");
	/* Without the optional device every field is required: no strict prefix decodes. */
	int accepted = 0;
	for (long cut = 0; cut < n; cut++) {
		uint8_t *p = malloc((size_t)cut + 1);
		memcpy(p, b, (size_t)cut);
		accepted += msg_decode_identify(p, (size_t)cut, &m, &err) == 0;
		free(p);
	}
	CHECK(accepted == 0, "%d truncated IDENTIFY bodies accepted", accepted);

	char host63[64], host64[65], dev32[40], dev33[41];
	memset(host63, 'a', 63);
	host63[63] = 0;
	memset(host64, 'a', 64);
	host64[64] = 0;
	snprintf(dev32, sizeof(dev32), "/dev/%s", "abcdefghijklmnopqrstuvwxyz012345");
	snprintf(dev33, sizeof(dev33), "/dev/%s", "abcdefghijklmnopqrstuvwxyz0123456");
	static const struct {
		const char *host, *id, *dev;
		size_t entropy;
		int ok;
	} cases[] = {
		{ "a", "0123456789abcdef0123456789abcdef", NULL, 32, 1 },
		{ "A-9", "0123456789abcdef0123456789abcdef", "/dev/vdb", 256, 1 },
		{ "", "0123456789abcdef0123456789abcdef", NULL, 32, 0 },
		{ "a-", "0123456789abcdef0123456789abcdef", NULL, 32, 0 },
		{ "a b", "0123456789abcdef0123456789abcdef", NULL, 32, 0 },
		{ "a\xc3\xa9", "0123456789abcdef0123456789abcdef", NULL, 32, 0 },
		{ "a", "0123456789abcdef0123456789abcde", NULL, 32, 0 },
		{ "a", "0123456789abcdef0123456789abcdef0", NULL, 32, 0 },
		{ "a", "0123456789abcdef0123456789abcdeg", NULL, 32, 0 },
		{ "a", "0123456789abcdef0123456789abcdef", NULL, 31, 0 },
		{ "a", "0123456789abcdef0123456789abcdef", NULL, 257, 0 },
		{ "a", "0123456789abcdef0123456789abcdef", "/dev/", 32, 0 },
		{ "a", "0123456789abcdef0123456789abcdef", "/dev/vd/b", 32, 0 },
		{ "a", "0123456789abcdef0123456789abcdef", "/dev/.vdb", 32, 0 },
		{ "a", "0123456789abcdef0123456789abcdef", "dev/vdb", 32, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = identify_body(b, sizeof(b), cases[i].host, cases[i].id, cases[i].entropy, cases[i].dev);
		int rc = msg_decode_identify(b, (size_t)n, &m, &err);
		CHECK(cases[i].ok ? rc == 0 : rc < 0, "IDENTIFY case %zu (%s, %zu bytes of entropy): rc %d", i,
		      cases[i].host, cases[i].entropy, rc);
	}
	n = identify_body(b, sizeof(b), host63, id, 32, dev32);
	CHECK(msg_decode_identify(b, (size_t)n, &m, &err) == 0 && m.hostname.n == 63 && m.workspace_device.n == 37,
	      "63-byte hostname and 32-byte device name accepted");
	n = identify_body(b, sizeof(b), host64, id, 32, NULL);
	CHECK(msg_decode_identify(b, (size_t)n, &m, &err) < 0, "64-byte hostname accepted");
	n = identify_body(b, sizeof(b), "a", id, 32, dev33);
	CHECK(msg_decode_identify(b, (size_t)n, &m, &err) < 0, "33-byte device name accepted");

	/* NUL inside a value; a repeated optional field; an unknown tag is skipped. */
	static uint8_t ent[32];
	struct tlv_writer w;
	tlv_writer_init(&w, b, sizeof(b));
	tlv_put(&w, TAG_HOSTNAME, "a\0b", 3);
	tlv_put_str(&w, TAG_MACHINE_ID, id);
	tlv_put(&w, TAG_ENTROPY, ent, sizeof(ent));
	CHECK(msg_decode_identify(b, (size_t)tlv_end(&w), &m, &err) < 0, "NUL in hostname accepted");
	n = identify_body(b, sizeof(b), "a", id, 32, NULL);
	memcpy(b + n, b, 6); /* the hostname field (5-byte header, "a") again */
	CHECK(msg_decode_identify(b, (size_t)n + 6, &m, &err) < 0 && strstr(err, "repeats"), "repeated hostname accepted");
	n = identify_body(b, sizeof(b), "b", id, 32, "/dev/vdb");
	long n2 = identify_body(b + n, sizeof(b) - (size_t)n, "b", id, 32, "/dev/vdc");
	CHECK(msg_decode_identify(b, (size_t)(n + n2), &m, &err) < 0, "a second IDENTIFY body appended accepted");
	uint8_t unknown[] = { 0x5f, 0, 0, 0, 2, 'z', 'z' };
	n = identify_body(b, sizeof(b), "a", id, 32, NULL);
	memcpy(b + n, unknown, sizeof(unknown));
	CHECK(msg_decode_identify(b, (size_t)n + sizeof(unknown), &m, &err) == 0, "unknown tag in IDENTIFY not skipped");
	uint8_t huge[] = { TAG_ENTROPY, 0xff, 0xff, 0xff, 0xf0, 1, 2, 3 };
	CHECK(msg_decode_identify(huge, sizeof(huge), &m, &err) < 0, "entropy length near 2^32 accepted");

	/* FREEZE: one 4-byte timeout of at least 1 ms. */
	uint32_t t;
	uint8_t wide[] = { TAG_TIMEOUT_MS, 0, 0, 0, 5, 0, 0, 0, 1, 0 };
	uint8_t good[] = { 0x7e, 0, 0, 0, 0, TAG_TIMEOUT_MS, 0, 0, 0, 4, 0, 1, 0, 0 };
	CHECK(msg_decode_freeze(wide, sizeof(wide), &t, &err) < 0, "5-byte timeout accepted");
	CHECK(msg_decode_freeze(good, sizeof(good), &t, &err) == 0 && t == 65536, "FREEZE with an unknown tag first");
	CHECK(msg_validate(T_FREEZE, NULL, 0, &err) < 0, "empty FREEZE accepted");
	CHECK(msg_validate(T_QUIESCE, NULL, 0, &err) == 0 && msg_validate(T_THAW, NULL, 0, &err) == 0,
	      "empty QUIESCE/THAW");

	/* HELLO RESUME: a u32 of 0 or 1. */
	struct msg_hello h;
	uint8_t r0[] = { TAG_VERSION, 0, 0, 0, 4, 0, 0, 0, 1, TAG_RESUME, 0, 0, 0, 4, 0, 0, 0, 0 };
	uint8_t r8[] = { TAG_VERSION, 0, 0, 0, 4, 0, 0, 0, 1, TAG_RESUME, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1 };
	CHECK(msg_decode_hello(r0, sizeof(r0), &h, &err) == 0 && h.has_resume && h.resume == 0, "HELLO RESUME=0");
	CHECK(msg_decode_hello(r8, sizeof(r8), &h, &err) < 0, "8-byte RESUME accepted");
}

int main(int argc, char **argv)
{
	build_expectations();
	check_golden(argc > 1 ? argv[1] : "../protocol/golden/frames.txt");
	check_session_control();
	check_truncation();
	printf("frame: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
