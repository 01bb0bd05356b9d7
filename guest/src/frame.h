/* Wire format of the pyro agent protocol (docs/protocol.md): frame header,
 * TLV fields and the typed message bodies. Pure, bounds-checked, no I/O. */
#ifndef PYRO_FRAME_H
#define PYRO_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define PROTOCOL_VERSION 1u
#define HEADER_SIZE 12u
#define MAX_BODY 65536u
#define FLAG_END 0x01u

enum msg_type {
	T_HELLO = 0x01,
	T_HELLO_ACK = 0x02,
	T_PING = 0x03,
	T_PONG = 0x04,
	T_SHUTDOWN = 0x05,
	T_SHUTDOWN_ACK = 0x06,
	/* Session control on stream 0 (sysmsg.h): identity, quiescing, freezing /workspace. */
	T_IDENTIFY = 0x07,
	T_IDENTIFIED = 0x08,
	T_QUIESCE = 0x09,
	T_QUIESCED = 0x0a,
	T_FREEZE = 0x0b,
	T_FROZEN = 0x0c,
	T_THAW = 0x0d,
	T_THAWED = 0x0e,
	T_EXEC = 0x10,
	T_STDIN = 0x11,
	T_SIGNAL = 0x12,
	T_RESIZE = 0x13,
	T_STARTED = 0x20,
	T_STDOUT = 0x21,
	T_STDERR = 0x22,
	T_EXIT = 0x23,
	T_CONNECT = 0x30,
	T_CONNECTED = 0x31,
	T_CLOSED = 0x32,
	T_ACK = 0x33,
	/* File operations on the workspace (fsmsg.h): requests, then the replies. */
	T_FS_LIST = 0x40,
	T_FS_READ = 0x41,
	T_FS_WRITE = 0x42,
	T_FS_MKDIR = 0x43,
	T_FS_REMOVE = 0x44,
	T_FS_RENAME = 0x45,
	T_FS_CHMOD = 0x46,
	T_FS_REALPATH = 0x47,
	T_FS_LINK = 0x48,
	T_FS_ENTRIES = 0x4c,
	T_FS_DATA = 0x4d,
	T_FS_DONE = 0x4e,
	T_ERROR = 0x7f,
};

enum tag {
	TAG_VERSION = 0x01,
	TAG_CLIENT = 0x02,
	TAG_AGENT_VERSION = 0x03,
	TAG_KERNEL_RELEASE = 0x04,
	TAG_MAX_BODY = 0x05,
	TAG_MODE = 0x06,
	TAG_HOST_TIME_MS = 0x07,
	TAG_RESUME = 0x08,
	TAG_HOSTNAME = 0x09,
	TAG_MACHINE_ID = 0x0a,
	TAG_ENTROPY = 0x0b,
	TAG_WORKSPACE_DEVICE = 0x0c,
	TAG_ARG = 0x10,
	TAG_SHELL = 0x11,
	TAG_ENV = 0x12,
	TAG_CWD = 0x13,
	TAG_TIMEOUT_MS = 0x14,
	TAG_STDIN = 0x15,
	TAG_PTY_COLS = 0x16,
	TAG_PTY_ROWS = 0x17,
	TAG_UID = 0x18,
	TAG_GID = 0x19,
	TAG_SIGNO = 0x20,
	TAG_PID = 0x21,
	TAG_COLS = 0x22,
	TAG_ROWS = 0x23,
	TAG_EXIT_CODE = 0x30,
	TAG_SIGNAL = 0x31,
	TAG_TIMED_OUT = 0x32,
	TAG_DURATION_MS = 0x33,
	TAG_ERROR_CODE = 0x40,
	TAG_ERROR_MESSAGE = 0x41,
	TAG_PORT = 0x50,
	TAG_CLOSE_ERROR = 0x51,
	TAG_ACK_BYTES = 0x52,
	TAG_PATH = 0x60,
	TAG_TARGET = 0x61,
	TAG_FILE_MODE = 0x62,
	TAG_SCOPE = 0x63,
	TAG_MAX_ENTRIES = 0x64,
	TAG_OFFSET = 0x65,
	TAG_LENGTH = 0x66,
	TAG_PARENTS = 0x67,
	TAG_RECURSIVE = 0x68,
	TAG_HARD = 0x69,
	TAG_MTIME_NS = 0x6a,
	TAG_DATA = 0x6b,
	TAG_SIZE = 0x6c,
	TAG_COUNT = 0x6d,
	TAG_TRUNCATED = 0x6e,
	TAG_NO_FSYNC = 0x6f,
	TAG_ENTRY = 0x70,
	/* Fields inside one TAG_ENTRY value. */
	TAG_E_NAME = 0x71,
	TAG_E_TYPE = 0x72,
	TAG_E_MODE = 0x73,
	TAG_E_SIZE = 0x74,
	TAG_E_MTIME_NS = 0x75,
	TAG_E_UID = 0x76,
	TAG_E_GID = 0x77,
	TAG_E_LINK = 0x78,
};

/* A decoded frame; body points into the caller's buffer. */
struct frame {
	uint32_t stream;
	uint8_t type;
	uint8_t flags;
	uint32_t len;
	const uint8_t *body;
};

/* A string view into a body (not NUL-terminated). */
struct bytes {
	const uint8_t *p;
	uint32_t n;
};

int type_known(uint8_t type);
/* Validates a 12-byte header into f (body left NULL). 0 ok, -1 with *err set. */
int frame_header_parse(const uint8_t *h, struct frame *f, const char **err);
void frame_header_encode(uint8_t *h, uint32_t len, uint32_t stream, uint8_t type, uint8_t flags);
/* Decodes exactly one frame occupying all n bytes. */
int frame_decode(const uint8_t *buf, size_t n, struct frame *f, const char **err);
/* Writes header+body into out; returns total size or 0 if it does not fit / body too large. */
size_t frame_encode(uint8_t *out, size_t cap, uint32_t stream, uint8_t type, uint8_t flags,
		    const uint8_t *body, size_t len);

/* TLV field iteration: 1 = field returned, 0 = end, -1 = malformed (*err set). */
struct tlv_reader {
	const uint8_t *p;
	size_t n, off;
};
void tlv_init(struct tlv_reader *r, const uint8_t *p, size_t n);
int tlv_next(struct tlv_reader *r, uint8_t *tag, struct bytes *val, const char **err);

/* TLV writing into a fixed buffer; overflow sticks and makes tlv_end return -1. */
struct tlv_writer {
	uint8_t *buf;
	size_t cap, len;
	int overflow;
};
void tlv_writer_init(struct tlv_writer *w, uint8_t *buf, size_t cap);
void tlv_put(struct tlv_writer *w, uint8_t tag, const void *val, uint32_t len);
void tlv_put_u32(struct tlv_writer *w, uint8_t tag, uint32_t v);
void tlv_put_i32(struct tlv_writer *w, uint8_t tag, int32_t v);
void tlv_put_u64(struct tlv_writer *w, uint8_t tag, uint64_t v);
void tlv_put_str(struct tlv_writer *w, uint8_t tag, const char *s);
void tlv_put_bytes(struct tlv_writer *w, uint8_t tag, struct bytes b);
long tlv_end(const struct tlv_writer *w);

/* Typed messages. Decoders return 0, or -1 with *err set (a protocol error).
 * Encoders write the body into out and return its length, or -1 if it does not fit. */
struct msg_hello {
	uint32_t version;
	int has_client;
	struct bytes client;
	int has_host_time;
	uint64_t host_time_ms;
	/* RESUME=1: keep the running session (reattach after a restore or QUIESCE). */
	int has_resume;
	uint32_t resume;
};
struct msg_hello_ack {
	uint32_t version;
	struct bytes agent_version, kernel_release, mode;
	uint32_t max_body;
};
struct msg_exec {
	uint32_t nargs, nenv;
	struct bytes *args, *env; /* heap arrays; free with msg_exec_free */
	int has_shell, has_cwd, has_timeout, has_stdin;
	struct bytes shell, cwd;
	uint32_t timeout_ms, stdin_mode;
	/* A terminal is wanted only when both are present (msg_exec_pty). */
	int has_pty_cols, has_pty_rows;
	uint32_t pty_cols, pty_rows;
	/* Run as this user and group (both or neither; checked by the agent, not the codec). */
	int has_uid, has_gid;
	uint32_t uid, gid;
};
struct msg_resize {
	uint32_t cols, rows;
};
struct msg_exit {
	int32_t exit_code;
	uint32_t signal, timed_out, duration_ms;
};
struct msg_error {
	struct bytes code, message;
};
struct msg_closed {
	int has_error;
	struct bytes error;
};

int msg_decode_hello(const uint8_t *b, size_t n, struct msg_hello *m, const char **err);
int msg_decode_hello_ack(const uint8_t *b, size_t n, struct msg_hello_ack *m, const char **err);
int msg_decode_exec(const uint8_t *b, size_t n, struct msg_exec *m, const char **err);
void msg_exec_free(struct msg_exec *m);
int msg_exec_pty(const struct msg_exec *m);
int msg_decode_resize(const uint8_t *b, size_t n, struct msg_resize *m, const char **err);
int msg_decode_u32_msg(const uint8_t *b, size_t n, uint8_t tag, uint32_t *v, const char **err);
int msg_decode_exit(const uint8_t *b, size_t n, struct msg_exit *m, const char **err);
int msg_decode_error(const uint8_t *b, size_t n, struct msg_error *m, const char **err);
int msg_decode_closed(const uint8_t *b, size_t n, struct msg_closed *m, const char **err);
/* Decodes a body by type and throws the result away: does this body parse? */
int msg_validate(uint8_t type, const uint8_t *b, size_t n, const char **err);

long msg_encode_hello(uint8_t *out, size_t cap, const struct msg_hello *m);
long msg_encode_hello_ack(uint8_t *out, size_t cap, const struct msg_hello_ack *m);
long msg_encode_exec(uint8_t *out, size_t cap, const struct msg_exec *m);
long msg_encode_resize(uint8_t *out, size_t cap, const struct msg_resize *m);
long msg_encode_u32_msg(uint8_t *out, size_t cap, uint8_t tag, uint32_t v);
long msg_encode_exit(uint8_t *out, size_t cap, const struct msg_exit *m);
long msg_encode_error(uint8_t *out, size_t cap, const struct msg_error *m);
long msg_encode_closed(uint8_t *out, size_t cap, const struct msg_closed *m);

/* Field checks shared by the codecs: integers must have exactly their width, strings hold no NUL. */
int want_u32(struct bytes v, uint32_t *out, const char **err);
int want_u64(struct bytes v, uint64_t *out, const char **err);
int want_str(struct bytes v, struct bytes *out, const char **err);

struct bytes bytes_of(const char *s);
int bytes_eq(struct bytes b, const char *s);

#endif
