/* pyro-agent: runs commands for the host over one framed byte stream
 * (docs/protocol.md). Single-threaded: one poll() loop over the channel, the
 * commands' pipes, forwarded connections and a signalfd for SIGCHLD. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "channel.h"
#include "exec.h"
#include "fileops.h"
#include "forward.h"
#include "frame.h"
#include "freeze.h"
#include "identity.h"
#include "init.h"
#include "log.h"
#include "util.h"

#ifndef AGENT_VERSION
#error "AGENT_VERSION must be defined (see Makefile)"
#endif

#define RECONNECT_MS 50
#define IN_CAP (2 * (HEADER_SIZE + MAX_BODY))

static struct {
	int guest;           /* PID 1 in a VM (else host mode) */
	const char *workdir; /* host mode: what /workspace maps to */
	const char *home;    /* host mode: what HOME is set to, if given */
	int connected;       /* guest: a host is on the port */
	int hello;           /* handshake done on this connection */
	int discard;         /* after a protocol error: drop input until the host goes away */
	int quiesced;        /* QUIESCED sent: nothing goes out until the host's next frame */
	int sfd;             /* signalfd for SIGCHLD */
	int devnull;
	int64_t next_probe;
	size_t in_len;
	uint8_t in[IN_CAP];
} ag;

static void die(int code) __attribute__((noreturn));
static void die(int code)
{
	chan_flush();
	ws_thaw();
	if (ag.guest) {
		/* PID 1 exiting panics the kernel; power off cleanly instead. */
		guest_kill_all(1000);
		guest_poweroff();
	}
	exit(code);
}

/* The host went away (EOF, hang-up, failed write) or broke the protocol. */
static void drop_connection(int exit_code)
{
	ws_thaw(); /* first: removing a pending write's temp file would block on a frozen disk */
	cmd_kill_all();
	fwd_kill_all();
	fs_abort_all();
	if (!ag.guest)
		exit(exit_code);
	if (ag.connected)
		agent_log("host disconnected");
	ag.connected = 0;
	ag.hello = 0;
	ag.discard = 0;
	ag.quiesced = 0;
	ag.in_len = 0;
	ag.next_probe = now_ms() + RECONNECT_MS;
	chan.lost = 1;
}

static void protocol_error(const char *code, const char *msg)
{
	agent_log("protocol error: %s", msg);
	chan_send_error(0, code, "%s", msg);
	chan_flush();
	ws_thaw();
	cmd_kill_all();
	fwd_kill_all();
	fs_abort_all();
	if (!ag.guest)
		exit(1);
	ag.discard = 1;
}

static void send_hello_ack(void)
{
	struct utsname u;
	if (uname(&u) < 0)
		strcpy(u.release, "unknown");
	struct msg_hello_ack ack = {
		.version = PROTOCOL_VERSION,
		.agent_version = bytes_of(AGENT_VERSION),
		.kernel_release = bytes_of(u.release),
		.mode = bytes_of(ag.guest ? "guest" : "host"),
		.max_body = MAX_BODY,
	};
	long len = msg_encode_hello_ack(chan_out + HEADER_SIZE, MAX_BODY, &ack);
	if (len >= 0)
		chan_send_out(0, T_HELLO_ACK, 0, (size_t)len);
}

static void on_hello(const struct frame *f)
{
	struct msg_hello h;
	const char *err;
	if (msg_decode_hello(f->body, f->len, &h, &err) < 0)
		return protocol_error("BAD_MESSAGE", err);
	if (h.version != PROTOCOL_VERSION) {
		chan_send_error(0, "VERSION_MISMATCH", "agent speaks protocol version %u, not %u",
				PROTOCOL_VERSION, h.version);
		return;
	}
	if (ag.guest && h.has_host_time) {
		/* The VM has no RTC worth trusting; the host's clock is the reference. */
		struct timespec ts = { (time_t)(h.host_time_ms / 1000), (long)(h.host_time_ms % 1000) * 1000000L };
		if (clock_settime(CLOCK_REALTIME, &ts) < 0)
			agent_log("set clock: %s", strerror(errno));
	}
	if (ag.hello && h.has_resume && h.resume == 1) {
		/* Reattached (after a restore, or after QUIESCE): the session goes on as it was. */
		agent_log("session resumed");
	} else if (ag.hello) {
		/* A virtio port cannot always tell us the host reconnected between two
		 * probes; a repeated HELLO is a new session, so the old one's commands go. */
		agent_log("new session: dropping running commands and connections");
		ws_thaw();
		cmd_kill_all();
		fwd_kill_all();
		fs_abort_all();
	}
	ag.hello = 1;
	send_hello_ack();
}

/* Host mode maps the guest's /workspace onto the scratch dir. */
static void resolve_cwd(const struct msg_exec *m, char *out, size_t cap)
{
	if (!m->has_cwd || m->cwd.n == 0) {
		snprintf(out, cap, "/");
		return;
	}
	snprintf(out, cap, "%.*s", (int)m->cwd.n, (const char *)m->cwd.p);
	if (!ag.guest && ag.workdir && !strncmp(out, "/workspace", 10) && (out[10] == 0 || out[10] == '/')) {
		char rest[4096];
		snprintf(rest, sizeof(rest), "%s", out + 10);
		snprintf(out, cap, "%s%s", ag.workdir, rest);
	}
}

/* Commands, connections and file writes share stream ids. */
static int stream_busy(uint32_t stream)
{
	return cmd_find(stream) || fwd_find(stream) || fs_busy(stream);
}

/* While /workspace is frozen any write to it would block the single-threaded agent,
 * and with it the THAW that would end the freeze: such requests are refused. */
static int fs_refused_while_frozen(uint8_t type)
{
	return ws_frozen() && type != T_FS_LIST && type != T_FS_READ && type != T_FS_REALPATH;
}

static void on_fs(const struct frame *f)
{
	if (fs_refused_while_frozen(f->type))
		chan_send_error(f->stream, "FROZEN", "the workspace is frozen for a snapshot; retry after it thaws");
	else if (f->stream == 0)
		chan_send_error(0, "BAD_MESSAGE", "file requests need a stream id >= 1");
	else if (stream_busy(f->stream))
		chan_send_error(f->stream, "STREAM_IN_USE", "stream %u is in use", f->stream);
	else
		fs_request(f);
}

/* Host mode with --home: HOME points into the sandbox's scratch dir, not at the host user's
 * home, so a shell does not run the host's rc files (which may hang it or touch the host). */
static void resolve_home(struct msg_exec *m)
{
	static char home[4200];
	if (ag.guest || !ag.home)
		return;
	snprintf(home, sizeof(home), "HOME=%s", ag.home);
	for (uint32_t i = 0; i < m->nenv; i++)
		if (m->env[i].n >= 5 && !memcmp(m->env[i].p, "HOME=", 5))
			m->env[i] = bytes_of(home);
}

static void on_exec(const struct frame *f)
{
	struct msg_exec m;
	const char *err;
	if (msg_decode_exec(f->body, f->len, &m, &err) < 0)
		return protocol_error("BAD_MESSAGE", err);
	char cwd[4096], msg[4200];
	const char *code = NULL;
	if (f->stream == 0) {
		chan_send_error(0, "BAD_MESSAGE", "EXEC needs a stream id >= 1");
	} else if (stream_busy(f->stream)) {
		chan_send_error(f->stream, "STREAM_IN_USE", "stream %u is in use", f->stream);
	} else if (cmd_count() >= MAX_CMDS) {
		chan_send_error(f->stream, "TOO_MANY_STREAMS", "at most %d commands may run at once", MAX_CMDS);
	} else if ((m.nargs > 0) == (m.has_shell != 0)) {
		chan_send_error(f->stream, "BAD_MESSAGE", "EXEC needs exactly one of arg and shell");
	} else if (m.has_uid != m.has_gid) {
		chan_send_error(f->stream, "BAD_MESSAGE", "EXEC needs both of uid and gid, or neither");
	} else if (m.has_uid && (m.uid == (uint32_t)-1 || m.gid == (uint32_t)-1)) {
		/* (uid_t)-1 means "leave unchanged" to the set*id calls: never a user. */
		chan_send_error(f->stream, "BAD_MESSAGE", "uid and gid must be 0 to 4294967294");
	} else {
		resolve_cwd(&m, cwd, sizeof(cwd));
		resolve_home(&m);
		struct cmd *c = cmd_start(f->stream, &m, cwd, ag.devnull, &code, msg, sizeof(msg));
		if (!c) {
			chan_send_error(f->stream, code, "%s", msg);
		} else {
			long len = msg_encode_u32_msg(chan_out + HEADER_SIZE, MAX_BODY, TAG_PID, (uint32_t)cmd_pid(c));
			chan_send_out(f->stream, T_STARTED, 0, (size_t)len);
		}
	}
	msg_exec_free(&m);
}

static void on_connect(const struct frame *f)
{
	uint32_t port;
	const char *err;
	msg_decode_u32_msg(f->body, f->len, TAG_PORT, &port, &err); /* validated by dispatch */
	if (f->stream == 0)
		chan_send_error(0, "BAD_MESSAGE", "CONNECT needs a stream id >= 1");
	else if (stream_busy(f->stream))
		chan_send_error(f->stream, "STREAM_IN_USE", "stream %u is in use", f->stream);
	else if (fwd_count() >= MAX_CONNS)
		chan_send_error(f->stream, "TOO_MANY_STREAMS", "at most %d connections may be open at once", MAX_CONNS);
	else if (port == 0 || port > 65535)
		chan_send_error(f->stream, "BAD_MESSAGE", "port %u is out of range", port);
	else
		fwd_connect(f->stream, (uint16_t)port);
}

static void on_identify(const struct frame *f)
{
	struct msg_identify m;
	const char *err, *code;
	char msg[512];
	/* A bad value is refused without ending the session (its commands keep running). */
	if (msg_decode_identify(f->body, f->len, &m, &err) < 0)
		chan_send_error(0, "INVALID_ARGUMENT", "%s", err);
	else if (!ag.guest)
		chan_send_error(0, "UNSUPPORTED", "IDENTIFY applies to a VM, not to host mode");
	else if (identity_apply(&m, &code, msg, sizeof(msg)) < 0)
		chan_send_error(0, code, "%s", msg);
	else
		chan_send(0, T_IDENTIFIED, 0, NULL, 0);
}

/* Everything on disk, QUIESCED as the last frame, then silence (see event_loop). */
static void on_quiesce(void)
{
	if (ws_frozen()) {
		/* The frozen disk is clean already; sync() must not wait on it. */
		int root = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (root >= 0) {
			syncfs(root);
			close(root);
		}
	} else {
		sync();
	}
	chan_send(0, T_QUIESCED, 0, NULL, 0);
	chan_flush();
	ag.quiesced = 1;
}

static void on_freeze(const struct frame *f)
{
	uint32_t timeout_ms;
	const char *err, *code;
	char msg[512];
	msg_decode_freeze(f->body, f->len, &timeout_ms, &err); /* validated by dispatch */
	if (!ag.guest)
		chan_send_error(0, "UNSUPPORTED", "FREEZE applies to a VM, not to host mode");
	else if (fs_writes_pending())
		/* Its next data would block the agent on the frozen disk. */
		chan_send_error(0, "BUSY", "a file write is under way");
	else if (ws_freeze(WORKSPACE_DIR, timeout_ms, &code, msg, sizeof(msg)) < 0)
		chan_send_error(0, code, "%s", msg);
	else
		chan_send(0, T_FROZEN, 0, NULL, 0);
}

static void on_shutdown(void)
{
	agent_log("shutdown requested");
	ws_thaw();
	cmd_kill_all();
	fwd_kill_all();
	if (ag.guest)
		guest_kill_all(2000);
	sync();
	chan_send(0, T_SHUTDOWN_ACK, 0, NULL, 0);
	chan_flush();
	if (ag.guest)
		guest_poweroff();
	exit(0);
}

static void dispatch(const struct frame *f)
{
	const char *err;
	if (!ag.hello && f->type != T_HELLO) {
		chan_send_error(0, "BAD_MESSAGE", "expected HELLO first");
		return;
	}
	if (f->type != T_IDENTIFY && msg_validate(f->type, f->body, f->len, &err) < 0)
		return protocol_error("BAD_MESSAGE", err);
	struct cmd *c;
	struct conn *k;
	uint32_t signo, acked;
	struct msg_resize rs;
	switch (f->type) {
	case T_HELLO:
		return on_hello(f);
	case T_PING:
		chan_send(f->stream, T_PONG, 0, f->body, f->len);
		return;
	case T_SHUTDOWN:
		return on_shutdown();
	case T_IDENTIFY:
		return on_identify(f);
	case T_QUIESCE:
		return on_quiesce();
	case T_FREEZE:
		return on_freeze(f);
	case T_THAW:
		ws_thaw();
		chan_send(0, T_THAWED, 0, NULL, 0);
		return;
	case T_EXEC:
		return on_exec(f);
	case T_CONNECT:
		return on_connect(f);
	case T_FS_LIST: case T_FS_READ: case T_FS_WRITE: case T_FS_MKDIR: case T_FS_REMOVE:
	case T_FS_RENAME: case T_FS_CHMOD: case T_FS_REALPATH: case T_FS_LINK:
		return on_fs(f);
	case T_FS_DATA:
		return fs_data(f);
	case T_STDIN:
		/* STDIN/SIGNAL racing with EXIT or CLOSED are normal: ignore unknown streams
		 * rather than answer with an ERROR the host could pin on a reused id. */
		if ((c = cmd_find(f->stream)))
			cmd_stdin(c, f->body, f->len, f->flags & FLAG_END);
		else if ((k = fwd_find(f->stream)))
			fwd_stdin(k, f->body, f->len, f->flags & FLAG_END);
		return;
	case T_ACK:
		msg_decode_u32_msg(f->body, f->len, TAG_ACK_BYTES, &acked, &err);
		if ((k = fwd_find(f->stream)))
			fwd_ack(k, acked);
		return;
	case T_SIGNAL:
		msg_decode_u32_msg(f->body, f->len, TAG_SIGNO, &signo, &err);
		if ((c = cmd_find(f->stream)) && signo > 0 && signo < NSIG)
			cmd_signal(c, (int)signo);
		else if ((k = fwd_find(f->stream)))
			fwd_abort(k);
		else if (fs_abort(f->stream))
			chan_send_error(f->stream, "ABORTED", "the write was abandoned");
		return;
	case T_RESIZE:
		msg_decode_resize(f->body, f->len, &rs, &err);
		if ((c = cmd_find(f->stream)))
			cmd_resize(c, rs.cols, rs.rows);
		return;
	case T_ERROR:
		agent_log("host reported an error on stream %u", f->stream);
		return;
	default:
		chan_send_error(0, "BAD_MESSAGE", "unexpected message type 0x%02x", f->type);
		return;
	}
}

/* Consumes the complete frames in the input buffer. */
static void process_input(void)
{
	size_t off = 0;
	while (ag.connected && !ag.discard && ag.in_len - off >= HEADER_SIZE) {
		struct frame f;
		const char *err;
		if (frame_header_parse(ag.in + off, &f, &err) < 0) {
			protocol_error("BAD_FRAME", err);
			break;
		}
		if (ag.in_len - off < HEADER_SIZE + f.len)
			break;
		f.body = ag.in + off + HEADER_SIZE;
		off += HEADER_SIZE + f.len;
		if (ag.quiesced) {
			/* The host is back (HELLO RESUME after a restore, or any frame): speak again. */
			ag.quiesced = 0;
			cmd_resumed(now_ms());
		}
		dispatch(&f);
		if (chan.lost)
			break;
	}
	if (ag.discard || !ag.connected) {
		ag.in_len = 0;
	} else {
		memmove(ag.in, ag.in + off, ag.in_len - off);
		ag.in_len -= off;
	}
}

/* Returns 1 if the read made progress, 0 on EAGAIN, -1 on EOF/error (disconnect). */
static int read_channel(void)
{
	ssize_t n = read(chan.rfd, ag.in + ag.in_len, IN_CAP - ag.in_len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0)
		return -1;
	if (ag.discard)
		return 1;
	ag.in_len += (size_t)n;
	process_input();
	return 1;
}

/* Guest: a virtio port reads EOF while no host is attached; retry until one is. */
static void probe_connection(int64_t now)
{
	if (now < ag.next_probe)
		return;
	ag.next_probe = now + RECONNECT_MS;
	ssize_t n = read(chan.rfd, ag.in, IN_CAP);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		return;
	agent_log("host connected");
	ag.connected = 1;
	ag.hello = 0;
	ag.discard = 0;
	ag.quiesced = 0;
	chan.lost = 0;
	ag.in_len = n > 0 ? (size_t)n : 0;
	process_input();
}

static void reap_children(void)
{
	struct signalfd_siginfo si;
	while (read(ag.sfd, &si, sizeof(si)) > 0)
		;
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		cmd_reaped(pid, status);
}

static void event_loop(void)
{
	static struct pollfd pfd[2 + 3 * MAX_CMDS + MAX_CONNS];
	for (;;) {
		int64_t now = now_ms();
		int64_t next = cmd_tick(now, ag.quiesced);
		int64_t thaw = ws_tick(now);
		if (thaw >= 0 && (next < 0 || thaw < next))
			next = thaw;
		if (chan.lost && ag.connected)
			drop_connection(0);
		if (ag.guest && !ag.connected) {
			probe_connection(now);
			if (!ag.connected && (next < 0 || next > ag.next_probe))
				next = ag.next_probe;
		}
		int n = 0;
		pfd[n++] = (struct pollfd){ ag.sfd, POLLIN, 0 };
		/* Stop reading while stdin and socket queues are full; a hang-up is still reported.
		 * Quiesced, the channel is always read: the host's next frame ends the silence. */
		short want = !ag.quiesced && cmd_stdin_backlog() + fwd_backlog() > STDIN_QUEUE_MAX ? 0 : POLLIN;
		pfd[n++] = (struct pollfd){ ag.connected ? chan.rfd : -1, want, 0 };
		n = cmd_pollfds(pfd, n, (int)(sizeof(pfd) / sizeof(pfd[0])), !ag.quiesced);
		n = fwd_pollfds(pfd, n, (int)(sizeof(pfd) / sizeof(pfd[0])), ag.quiesced);
		int timeout = next < 0 ? -1 : (int)(next > now ? next - now : 0);
		chan_flush();
		if (chan.lost && ag.connected)
			continue; /* the write failed: drop the connection first */
		if (poll(pfd, (nfds_t)n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			agent_log("poll: %s", strerror(errno));
			die(1);
		}
		if (pfd[0].revents)
			reap_children();
		/* Output before new input: keeps frames of a stream in order and lets EXIT follow its data. */
		cmd_pollevents(pfd, n);
		fwd_pollevents(pfd, n);
		if (ag.connected && pfd[1].revents) {
			if (!want && !(pfd[1].revents & POLLIN))
				drop_connection(0);
			else if (read_channel() < 0)
				drop_connection(ag.discard ? 1 : 0);
		}
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: pyro-agent [--version] [--host --workdir DIR [--home DIR]]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int host = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--version")) {
			printf("%s\n", AGENT_VERSION);
			return 0;
		} else if (!strcmp(argv[i], "--host")) {
			host = 1;
		} else if (!strcmp(argv[i], "--workdir") && i + 1 < argc) {
			ag.workdir = argv[++i];
		} else if (!strcmp(argv[i], "--home") && i + 1 < argc) {
			ag.home = argv[++i];
		} else {
			usage();
		}
	}
	ag.guest = !host && getpid() == 1;
	if (!host && !ag.guest)
		usage();
	if (host && !ag.workdir)
		usage();


	/* SIGCHLD arrives through the signalfd; a dead reader must give EPIPE, not kill us. */
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (ag.guest) {
		if (guest_setup() < 0) {
			agent_log("guest setup failed");
			die(1);
		}
		chan.rfd = chan.wfd = guest_open_channel();
		if (chan.rfd < 0)
			die(1);
		ag.connected = 0;
		ag.next_probe = 0;
	} else {
		/* Move the channel off fds 0/1 so commands cannot inherit it. */
		chan.rfd = fcntl(0, F_DUPFD_CLOEXEC, 3);
		chan.wfd = fcntl(1, F_DUPFD_CLOEXEC, 3);
		int null = open("/dev/null", O_RDWR);
		if (chan.rfd < 0 || chan.wfd < 0 || null < 0) {
			perror("pyro-agent: channel setup");
			return 1;
		}
		dup2(null, 0);
		dup2(null, 1);
		if (null > 2)
			close(null);
		ag.connected = 1;
		chan.lost = 0;
	}
	fs_set_root(ag.guest ? "/workspace" : ag.workdir);
	ag.devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	ag.sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (ag.sfd < 0) {
		agent_log("signalfd: %s", strerror(errno));
		die(1);
	}
	if (ag.guest)
		agent_log("ready");
	event_loop();
	die(1);
}
