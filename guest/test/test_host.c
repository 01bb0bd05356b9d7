/* Host-mode tests: runs the real agent binary (`pyro-agent --host`) over pipes
 * and checks the protocol end to end: handshake, exec, streams, exit codes,
 * timeouts, signals, stdin, floods, terminals, forwarded connections,
 * file operations and their confinement, malformed input, EOF and shutdown. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "forward.h" /* FWD_WINDOW */
#include "frame.h"
#include "fsmsg.h"
#include "sysmsg.h"

static const char *agent_path;
static char workdir[64];


static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- a connection to one agent process ---- */

struct agent {
	pid_t pid;
	int to, from;
	uint8_t *out; /* frames not yet written to the agent */
	size_t out_len, out_off;
	uint8_t in[2 * (HEADER_SIZE + MAX_BODY)];
	size_t in_len;
	uint8_t frame[HEADER_SIZE + MAX_BODY]; /* last received frame */
};

static struct agent *agent_start(void)
{
	struct agent *a = calloc(1, sizeof(*a));
	int to[2], from[2];
	if (pipe2(to, O_CLOEXEC) < 0 || pipe2(from, O_CLOEXEC) < 0)
		abort();
	a->pid = fork();
	if (a->pid == 0) {
		dup2(to[0], 0);
		dup2(from[1], 1);
		if (!getenv("PYRO_TEST_VERBOSE")) {
			int null = open("/dev/null", O_WRONLY);
			dup2(null, 2);
		}
		execl(agent_path, agent_path, "--host", "--workdir", workdir, (char *)NULL);
		_exit(99);
	}
	close(to[0]);
	close(from[1]);
	a->to = to[1];
	a->from = from[0];
	fcntl(a->to, F_SETFL, O_NONBLOCK);
	fcntl(a->from, F_SETFL, O_NONBLOCK);
	return a;
}

static void send_frame(struct agent *a, uint32_t stream, uint8_t type, uint8_t flags, const void *body, size_t len)
{
	a->out = realloc(a->out, a->out_len + HEADER_SIZE + len);
	frame_header_encode(a->out + a->out_len, (uint32_t)len, stream, type, flags);
	if (len)
		memcpy(a->out + a->out_len + HEADER_SIZE, body, len);
	a->out_len += HEADER_SIZE + len;
}

static void send_raw(struct agent *a, const void *p, size_t n)
{
	a->out = realloc(a->out, a->out_len + n);
	memcpy(a->out + a->out_len, p, n);
	a->out_len += n;
}

/* Next frame from the agent, writing queued input meanwhile (the agent may
 * block on us while we block on it otherwise). 1 = frame, 0 = EOF, -1 = timeout. */
static int recv_frame(struct agent *a, struct frame *f, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	for (;;) {
		if (a->in_len >= HEADER_SIZE) {
			const char *err;
			if (frame_header_parse(a->in, f, &err) < 0) {
				printf("agent sent a bad frame: %s\n", err);
				return -1;
			}
			size_t total = HEADER_SIZE + f->len;
			if (a->in_len >= total) {
				memcpy(a->frame, a->in, total);
				memmove(a->in, a->in + total, a->in_len - total);
				a->in_len -= total;
				f->body = a->frame + HEADER_SIZE;
				return 1;
			}
		}
		long long left = deadline - now_ms();
		if (left <= 0)
			return -1;
		struct pollfd p[2] = { { a->from, POLLIN, 0 }, { a->out_off < a->out_len ? a->to : -1, POLLOUT, 0 } };
		poll(p, 2, (int)left);
		if (p[1].revents & (POLLOUT | POLLERR)) {
			ssize_t w = write(a->to, a->out + a->out_off, a->out_len - a->out_off);
			if (w > 0)
				a->out_off += (size_t)w;
			else if (w < 0 && errno != EAGAIN)
				a->out_off = a->out_len; /* agent gone */
			if (a->out_off == a->out_len)
				a->out_off = a->out_len = 0;
		}
		if (p[0].revents) {
			ssize_t n = read(a->from, a->in + a->in_len, sizeof(a->in) - a->in_len);
			if (n == 0 && a->in_len == 0)
				return 0;
			if (n > 0)
				a->in_len += (size_t)n;
		}
	}
}

/* Writes everything queued (no reading). */
static void flush_out(struct agent *a)
{
	while (a->out_off < a->out_len) {
		struct pollfd p = { a->to, POLLOUT, 0 };
		poll(&p, 1, 2000);
		ssize_t w = write(a->to, a->out + a->out_off, a->out_len - a->out_off);
		if (w > 0)
			a->out_off += (size_t)w;
		else if (w < 0 && errno != EAGAIN)
			break;
	}
	a->out_off = a->out_len = 0;
}

/* Waits for the agent to exit; returns its exit status or -1 on timeout (then kills it). */
static int agent_wait(struct agent *a, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	int status;
	for (;;) {
		pid_t p = waitpid(a->pid, &status, WNOHANG);
		if (p == a->pid)
			break;
		if (now_ms() > deadline) {
			kill(a->pid, SIGKILL);
			waitpid(a->pid, &status, 0);
			status = -1;
			break;
		}
		usleep(5000);
	}
	close(a->to);
	close(a->from);
	free(a->out);
	free(a);
	return status < 0 ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int expect_frame(struct agent *a, struct frame *f, uint32_t stream, uint8_t type, const char *what)
{
	int rc = recv_frame(a, f, 5000);
	int ok = rc == 1 && f->stream == stream && f->type == type;
	CHECK(ok, "%s: wanted type %#x on stream %u, got rc=%d type %#x stream %u", what, type, stream, rc,
	      rc == 1 ? f->type : 0, rc == 1 ? f->stream : 0);
	return ok;
}

static struct bytes error_code(const struct frame *f)
{
	struct msg_error e;
	const char *err;
	if (msg_decode_error(f->body, f->len, &e, &err) < 0)
		return bytes_of("?");
	return e.code;
}

static void hello(struct agent *a)
{
	uint8_t b[64];
	struct msg_hello h = { .version = 1, .has_client = 1, .client = bytes_of("test_host") };
	send_frame(a, 0, T_HELLO, 0, b, (size_t)msg_encode_hello(b, sizeof(b), &h));
	struct frame f;
	if (expect_frame(a, &f, 0, T_HELLO_ACK, "hello")) {
		struct msg_hello_ack ack;
		const char *err;
		CHECK(msg_decode_hello_ack(f.body, f.len, &ack, &err) == 0 && ack.version == 1 &&
			      ack.max_body == MAX_BODY && bytes_eq(ack.mode, "host") &&
			      bytes_eq(ack.agent_version, AGENT_VERSION) && ack.kernel_release.n > 0,
		      "HELLO_ACK fields");
	}
}

/* ---- running commands ---- */

struct run {
	int started, error;
	uint32_t pid;
	char err_code[32];
	struct msg_exit exit;
	char *out, *err;
	size_t out_len, err_len, max_chunk, chunks;
	int out_nonzero;
	long long ms;
};

struct req {
	const char *shell;
	const char *const *args;
	const char *const *env;
	const char *cwd;
	uint32_t timeout_ms;
	int stdin_pipe;
	uint32_t pty_cols, pty_rows; /* both nonzero: run on a terminal */
	int has_uid, has_gid;
	uint32_t uid, gid;
};

static void send_exec(struct agent *a, uint32_t stream, const struct req *r)
{
	struct bytes args[16], env[16];
	struct msg_exec m = { 0 };
	for (; r->args && r->args[m.nargs]; m.nargs++)
		args[m.nargs] = bytes_of(r->args[m.nargs]);
	for (; r->env && r->env[m.nenv]; m.nenv++)
		env[m.nenv] = bytes_of(r->env[m.nenv]);
	m.args = args;
	m.env = env;
	if (r->shell) {
		m.has_shell = 1;
		m.shell = bytes_of(r->shell);
	}
	if (r->cwd) {
		m.has_cwd = 1;
		m.cwd = bytes_of(r->cwd);
	}
	if (r->timeout_ms) {
		m.has_timeout = 1;
		m.timeout_ms = r->timeout_ms;
	}
	if (r->stdin_pipe) {
		m.has_stdin = 1;
		m.stdin_mode = 1;
	}
	if (r->pty_cols && r->pty_rows) {
		m.has_pty_cols = m.has_pty_rows = 1;
		m.pty_cols = r->pty_cols;
		m.pty_rows = r->pty_rows;
	}
	m.has_uid = r->has_uid;
	m.uid = r->uid;
	m.has_gid = r->has_gid;
	m.gid = r->gid;
	uint8_t b[4096];
	long n = msg_encode_exec(b, sizeof(b), &m);
	send_frame(a, stream, T_EXEC, 0, b, (size_t)n);
}

static void append(char **buf, size_t *len, const uint8_t *p, size_t n)
{
	*buf = realloc(*buf, *len + n + 1);
	memcpy(*buf + *len, p, n);
	*len += n;
	(*buf)[*len] = 0;
}

/* Collects one stream's frames until EXIT or ERROR. Frames on other streams fail the test. */
static void collect(struct agent *a, uint32_t stream, struct run *r, int timeout_ms)
{
	long long t0 = now_ms();
	struct frame f;
	for (;;) {
		int rc = recv_frame(a, &f, timeout_ms);
		if (rc != 1) {
			CHECK(0, "stream %u: no EXIT (rc=%d)", stream, rc);
			break;
		}
		if (f.stream != stream) {
			CHECK(0, "unexpected frame type %#x on stream %u", f.type, f.stream);
			continue;
		}
		if (f.type == T_STARTED) {
			const char *err;
			if (r->started || r->out_len)
				CHECK(0, "STARTED twice or late");
			r->started = 1;
			msg_decode_u32_msg(f.body, f.len, TAG_PID, &r->pid, &err);
		} else if (f.type == T_STDOUT || f.type == T_STDERR) {
			if (!r->started)
				CHECK(0, "output before STARTED");
			if (f.len > r->max_chunk)
				r->max_chunk = f.len;
			r->chunks++;
			if (f.type == T_STDOUT) {
				for (uint32_t i = 0; i < f.len && !r->out_nonzero; i++)
					r->out_nonzero = f.body[i] != 0;
				if (r->out_len < (1u << 20)) /* keep the flood test's memory small */
					append(&r->out, &r->out_len, f.body, f.len);
				else
					r->out_len += f.len;
			} else {
				append(&r->err, &r->err_len, f.body, f.len);
			}
		} else if (f.type == T_EXIT) {
			const char *err;
			CHECK(msg_decode_exit(f.body, f.len, &r->exit, &err) == 0, "EXIT body");
			break;
		} else if (f.type == T_ERROR) {
			struct bytes c = error_code(&f);
			r->error = 1;
			snprintf(r->err_code, sizeof(r->err_code), "%.*s", (int)c.n, (const char *)c.p);
			if (!r->started)
				break; /* a refused request ends here */
		} else {
			CHECK(0, "unexpected type %#x", f.type);
		}
	}
	r->ms = now_ms() - t0;
}

static struct run run(struct agent *a, uint32_t stream, const struct req *q)
{
	struct run r = { 0 };
	send_exec(a, stream, q);
	collect(a, stream, &r, 10000);
	return r;
}

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

static int str_is(const char *got, const char *want)
{
	return got && !strcmp(got, want);
}

/* True if pid is gone or a zombie (nobody may have reaped it yet in a container). */
static int process_dead(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return 1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 1;
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	return p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
}

static int wait_dead(pid_t pid, int ms)
{
	long long deadline = now_ms() + ms;
	while (!process_dead(pid)) {
		if (now_ms() > deadline)
			return 0;
		usleep(10000);
	}
	return 1;
}

/* ---- tests ---- */

static void test_handshake(void)
{
	struct agent *a = agent_start();
	struct frame f;
	send_frame(a, 5, T_PING, 0, "x", 1);
	if (expect_frame(a, &f, 0, T_ERROR, "frame before HELLO"))
		CHECK(bytes_eq(error_code(&f), "BAD_MESSAGE"), "before HELLO: BAD_MESSAGE");
	uint8_t b[64];
	struct msg_hello h = { .version = 2 };
	send_frame(a, 0, T_HELLO, 0, b, (size_t)msg_encode_hello(b, sizeof(b), &h));
	if (expect_frame(a, &f, 0, T_ERROR, "HELLO v2"))
		CHECK(bytes_eq(error_code(&f), "VERSION_MISMATCH"), "VERSION_MISMATCH");
	hello(a);
	send_frame(a, 7, T_PING, 0, "\x00\x01\x02\xff", 4);
	if (expect_frame(a, &f, 7, T_PONG, "ping"))
		CHECK(f.len == 4 && !memcmp(f.body, "\x00\x01\x02\xff", 4) && f.flags == 0, "PONG body");
	send_frame(a, 0, T_SHUTDOWN, 0, NULL, 0);
	expect_frame(a, &f, 0, T_SHUTDOWN_ACK, "shutdown");
	CHECK(agent_wait(a, 3000) == 0, "exit 0 after SHUTDOWN");
}

static void test_commands(struct agent *a)
{
	struct run r;
	static const char *const no_env[] = { NULL };

	r = run(a, 1, &(struct req){ .shell = "echo out; echo err >&2; exit 3" });
	CHECK(r.started && r.pid > 0, "echo: STARTED with pid");
	CHECK(str_is(r.out, "out\n") && str_is(r.err, "err\n"), "echo: streams");
	CHECK(r.exit.exit_code == 3 && r.exit.signal == 0 && r.exit.timed_out == 0, "echo: exit 3 (got %d)",
	      r.exit.exit_code);
	CHECK(r.exit.duration_ms < 5000, "echo: duration");
	run_free(&r);

	r = run(a, 1, &(struct req){ .args = (const char *const[]){ "no-such-command-pyro", "x", NULL } });
	CHECK(r.started && r.exit.exit_code == 127, "missing command: 127 (got %d)", r.exit.exit_code);
	CHECK(r.err && strstr(r.err, "pyro-agent: no-such-command-pyro: command not found"), "missing command: message");
	run_free(&r);

	char path[128];
	snprintf(path, sizeof(path), "%s/noexec", workdir);
	close(open(path, O_CREAT | O_WRONLY, 0644));
	r = run(a, 1, &(struct req){ .args = (const char *const[]){ "./noexec", NULL }, .cwd = "/workspace" });
	CHECK(r.exit.exit_code == 126, "not executable: 126 (got %d)", r.exit.exit_code);
	unlink(path);
	run_free(&r);

	r = run(a, 2, &(struct req){ .args = (const char *const[]){ "sh", "-c", "exit 0", NULL },
				      .env = (const char *const[]){ "PATH=/nonexistent", NULL } });
	CHECK(r.exit.exit_code == 127, "PATH comes from the request env (got %d)", r.exit.exit_code);
	run_free(&r);

	r = run(a, 2, &(struct req){ .args = (const char *const[]){ "env", NULL },
				      .env = (const char *const[]){ "A=1", "B=two words", NULL } });
	CHECK(str_is(r.out, "A=1\nB=two words\n") && r.exit.exit_code == 0, "exact environment: %s", r.out);
	run_free(&r);

	r = run(a, 2, &(struct req){ .args = (const char *const[]){ "env", NULL }, .env = no_env });
	CHECK(r.out_len == 0 && r.exit.exit_code == 0, "empty environment");
	run_free(&r);

	r = run(a, 3, &(struct req){ .shell = "pwd", .cwd = "/nope-pyro" });
	CHECK(r.error && !r.started && !strcmp(r.err_code, "CWD_NOT_FOUND"), "missing cwd: CWD_NOT_FOUND");
	run_free(&r);

	snprintf(path, sizeof(path), "%s/sub", workdir);
	mkdir(path, 0755);
	char want[160];
	snprintf(want, sizeof(want), "%s/sub\n", workdir);
	r = run(a, 3, &(struct req){ .shell = "pwd", .cwd = "/workspace/sub" });
	CHECK(str_is(r.out, want), "cwd /workspace/sub maps to the workdir: %s", r.out ? r.out : "");
	rmdir(path);
	run_free(&r);

	r = run(a, 3, &(struct req){ .shell = "pwd" });
	CHECK(str_is(r.out, "/\n"), "default cwd is /");
	run_free(&r);

	r = run(a, 4, &(struct req){ .shell = "true", .args = (const char *const[]){ "true", NULL } });
	CHECK(r.error && !strcmp(r.err_code, "BAD_MESSAGE"), "both arg and shell: BAD_MESSAGE");
	run_free(&r);

	/* Only fds 0-2 reach a command: the channel and the agent's own fds are CLOEXEC. */
	r = run(a, 4, &(struct req){ .args = (const char *const[]){ "ls", "/proc/self/fd", NULL } });
	CHECK(str_is(r.out, "0\n1\n2\n3\n"), "inherited fds: %s", r.out ? r.out : "");
	run_free(&r);

	/* stdin not piped reads /dev/null */
	r = run(a, 4, &(struct req){ .args = (const char *const[]){ "cat", NULL } });
	CHECK(r.exit.exit_code == 0 && r.out_len == 0, "stdin defaults to /dev/null");
	run_free(&r);
}

/* uid and gid: the command runs as that user with only that group; half a pair or (uid_t)-1 is refused. */
static void test_user(struct agent *a)
{
	struct run r;
	r = run(a, 60, &(struct req){ .shell = "id -u; id -g; id -G", .has_uid = 1, .uid = 1000 });
	CHECK(r.error && !r.started && !strcmp(r.err_code, "BAD_MESSAGE"), "uid without gid: BAD_MESSAGE");
	run_free(&r);
	r = run(a, 60, &(struct req){ .shell = "true", .has_uid = 1, .uid = 0xffffffffu, .has_gid = 1, .gid = 0 });
	CHECK(r.error && !r.started && !strcmp(r.err_code, "BAD_MESSAGE"), "uid -1: BAD_MESSAGE");
	run_free(&r);
	r = run(a, 60, &(struct req){ .shell = "id -u; id -g; id -G", .has_uid = 1, .uid = 1000, .has_gid = 1, .gid = 1001 });
	if (geteuid() == 0) {
		CHECK(r.exit.exit_code == 0 && str_is(r.out, "1000\n1001\n1001\n"), "runs as 1000:1001: %s",
		      r.out ? r.out : "");
	} else {
		/* Not root: the credential change fails like an exec failure, before anything runs. */
		CHECK(r.started && r.exit.exit_code == 126 && r.err && strstr(r.err, "cannot run as 1000:1001"),
		      "unprivileged: exit 126 (got %d)", r.exit.exit_code);
	}
	run_free(&r);
}

static void test_stdin(struct agent *a)
{
	struct run r = { 0 };
	send_exec(a, 5, &(struct req){ .args = (const char *const[]){ "cat", NULL }, .stdin_pipe = 1 });
	send_frame(a, 5, T_STDIN, 0, "hello ", 6);
	send_frame(a, 5, T_STDIN, 0, "world", 5);
	send_frame(a, 5, T_STDIN, FLAG_END, NULL, 0);
	collect(a, 5, &r, 5000);
	CHECK(str_is(r.out, "hello world") && r.exit.exit_code == 0, "stdin: cat echoes");
	run_free(&r);

	/* 4 MiB through cat: more than the agent's stdin queue, so it must throttle reading. */
	memset(&r, 0, sizeof(r));
	send_exec(a, 6, &(struct req){ .shell = "cat | wc -c", .stdin_pipe = 1 });
	static uint8_t chunk[MAX_BODY];
	memset(chunk, 'x', sizeof(chunk));
	for (int i = 0; i < 64; i++)
		send_frame(a, 6, T_STDIN, 0, chunk, sizeof(chunk));
	send_frame(a, 6, T_STDIN, FLAG_END, NULL, 0);
	collect(a, 6, &r, 10000);
	CHECK(r.out && atol(r.out) == 64L * MAX_BODY && r.exit.exit_code == 0, "stdin 4 MiB: %s", r.out ? r.out : "");
	run_free(&r);

	/* STDIN to an unknown stream is ignored; the connection keeps working. */
	send_frame(a, 99, T_STDIN, 0, "zz", 2);
	struct frame f;
	send_frame(a, 0, T_PING, 0, "p", 1);
	expect_frame(a, &f, 0, T_PONG, "ping after stray STDIN");
}

static void test_timeout_and_signals(struct agent *a)
{
	/* The background sleep shares the command's process group: the timeout kills both. */
	struct run r = run(a, 7, &(struct req){ .shell = "sleep 10 & echo $!; wait", .timeout_ms = 200 });
	CHECK(r.exit.timed_out == 1 && r.exit.exit_code == -1 && r.exit.signal == 9,
	      "timeout: timed_out=%u code=%d signal=%u", r.exit.timed_out, r.exit.exit_code, r.exit.signal);
	CHECK(r.exit.duration_ms >= 200 && r.exit.duration_ms < 2000 && r.ms < 2000, "timeout: duration %u ms",
	      r.exit.duration_ms);
	pid_t bg = r.out ? (pid_t)atol(r.out) : 0;
	CHECK(bg > 0 && wait_dead(bg, 2000), "timeout: background child killed");
	run_free(&r);

	struct run s = { 0 };
	send_exec(a, 8, &(struct req){ .args = (const char *const[]){ "sleep", "10", NULL } });
	struct frame f;
	if (expect_frame(a, &f, 8, T_STARTED, "sleep started")) {
		s.started = 1;
		uint8_t b[16];
		send_frame(a, 8, T_SIGNAL, 0, b, (size_t)msg_encode_u32_msg(b, sizeof(b), TAG_SIGNO, 15));
		collect(a, 8, &s, 5000);
		CHECK(s.exit.exit_code == -1 && s.exit.signal == 15 && s.exit.timed_out == 0 && s.ms < 2000,
		      "SIGNAL 15: code=%d signal=%u", s.exit.exit_code, s.exit.signal);
	}
	run_free(&s);

	/* A background child holding the pipes delays EXIT by at most ~500 ms. */
	r = run(a, 9, &(struct req){ .shell = "sleep 5 & echo $!" });
	CHECK(r.exit.exit_code == 0 && r.ms < 1500, "background holder: EXIT after %lld ms", r.ms);
	if (r.out && atol(r.out) > 0)
		kill((pid_t)atol(r.out), SIGKILL);
	run_free(&r);
}

static void test_concurrency(struct agent *a)
{
	struct frame f;
	send_exec(a, 20, &(struct req){ .shell = "sleep 0.3; echo a" });
	send_exec(a, 20, &(struct req){ .shell = "echo dup" });
	send_exec(a, 21, &(struct req){ .shell = "echo b" });
	int started20 = 0, inuse = 0, exit20 = 0, exit21 = 0;
	char out20[16] = "", out21[16] = "";
	while (!(exit20 && exit21)) {
		if (recv_frame(a, &f, 5000) != 1)
			break;
		if (f.type == T_STARTED && f.stream == 20)
			started20++;
		if (f.type == T_ERROR && f.stream == 20)
			inuse = bytes_eq(error_code(&f), "STREAM_IN_USE");
		if (f.type == T_STDOUT)
			snprintf(f.stream == 20 ? out20 : out21, 16, "%.*s", (int)f.len, (const char *)f.body);
		if (f.type == T_EXIT)
			*(f.stream == 20 ? &exit20 : &exit21) = 1;
	}
	CHECK(started20 == 1 && inuse, "STREAM_IN_USE for a busy stream");
	CHECK(exit20 && exit21 && !strcmp(out20, "a\n") && !strcmp(out21, "b\n"), "two concurrent streams");
	/* The stream id is free again after EXIT. */
	struct run r = run(a, 20, &(struct req){ .shell = "echo again" });
	CHECK(str_is(r.out, "again\n"), "stream id reusable after EXIT");
	run_free(&r);
}

static void test_flood(struct agent *a)
{
	struct run r = run(a, 30, &(struct req){ .shell = "head -c 10000000 /dev/zero" });
	CHECK(r.out_len == 10000000 && !r.out_nonzero, "flood: %zu bytes", r.out_len);
	CHECK(r.max_chunk <= MAX_BODY && r.max_chunk > 0, "flood: chunks <= 64 KiB (max %zu)", r.max_chunk);
	CHECK(r.exit.exit_code == 0, "flood: exit 0");
	run_free(&r);
}

static void send_resize(struct agent *a, uint32_t stream, uint32_t cols, uint32_t rows)
{
	uint8_t b[32];
	struct msg_resize m = { cols, rows };
	send_frame(a, stream, T_RESIZE, 0, b, (size_t)msg_encode_resize(b, sizeof(b), &m));
}

static int has(const struct run *r, const char *s)
{
	return r->out && strstr(r->out, s) != NULL;
}

static void test_pty(struct agent *a)
{
	static const char *const env[] = { "PATH=/usr/bin:/bin", "TERM=dumb", NULL };
	struct run r = run(a, 40, &(struct req){ .shell = "tty; stty size; echo done; echo err >&2", .env = env,
						  .pty_cols = 120, .pty_rows = 30 });
	CHECK(has(&r, "/dev/pts/") && has(&r, "30 120") && has(&r, "done") && has(&r, "err"), "pty: tty and size: %s",
	      r.out ? r.out : "");
	CHECK(r.err_len == 0 && r.exit.exit_code == 0 && r.exit.signal == 0, "pty: one stream, exit 0 (got %d)",
	      r.exit.exit_code);
	run_free(&r);

	/* The command holds the slave as 0-2 only: the master and its duplicate stay with the agent. */
	r = run(a, 40, &(struct req){ .shell = "ls /proc/self/fd | tr '\\n' ' '", .env = env, .pty_cols = 80, .pty_rows = 24 });
	CHECK(str_is(r.out, "0 1 2 3 "), "pty: inherited fds: %s", r.out ? r.out : "");
	run_free(&r);

	/* An interactive shell: prompt, typed input echoed, its output, exit status. */
	static const char *const bash[] = { "/bin/bash", "--norc", "--noprofile", "-i", NULL };
	static const char *const sh[] = { "/bin/sh", "-i", NULL };
	char home[128];
	snprintf(home, sizeof(home), "HOME=%s", workdir);
	const char *const ienv[] = { "PATH=/usr/bin:/bin", "TERM=dumb", home, "PS1=pyro$ ", NULL };
	memset(&r, 0, sizeof(r));
	send_exec(a, 41, &(struct req){ .args = access("/bin/bash", X_OK) == 0 ? bash : sh, .env = ienv,
					 .pty_cols = 100, .pty_rows = 40 });
	send_frame(a, 41, T_STDIN, 0, "echo hello-$((1+2))\n", 20);
	send_frame(a, 41, T_STDIN, 0, "exit 7\n", 7);
	collect(a, 41, &r, 5000);
	CHECK(has(&r, "pyro$ ") && has(&r, "echo hello-$((1+2))") && has(&r, "hello-3"), "pty: interactive shell: %s",
	      r.out ? r.out : "");
	CHECK(r.exit.exit_code == 7 && r.exit.signal == 0, "pty: interactive exit 7 (got %d)", r.exit.exit_code);
	run_free(&r);

	/* END is ignored on a terminal; ^D typed on an empty line is the end of input. */
	memset(&r, 0, sizeof(r));
	send_exec(a, 42, &(struct req){ .args = (const char *const[]){ "cat", NULL }, .env = env, .pty_cols = 80,
					 .pty_rows = 24 });
	send_frame(a, 42, T_STDIN, FLAG_END, NULL, 0);
	send_frame(a, 42, T_STDIN, 0, "abc\n", 4);
	send_frame(a, 42, T_STDIN, FLAG_END, "\x04", 1);
	collect(a, 42, &r, 5000);
	CHECK(r.out && !strcmp(r.out, "abc\r\nabc\r\n") && r.exit.exit_code == 0, "pty: END ignored, ^D ends cat: %s",
	      r.out ? r.out : "");
	run_free(&r);

	/* RESIZE reaches the terminal while the command runs. */
	memset(&r, 0, sizeof(r));
	send_exec(a, 43, &(struct req){ .shell = "sleep 0.3; stty size", .env = env, .pty_cols = 120, .pty_rows = 30 });
	struct frame f;
	if (expect_frame(a, &f, 43, T_STARTED, "resize: started")) {
		r.started = 1;
		send_resize(a, 43, 80, 24);
		collect(a, 43, &r, 5000);
		CHECK(str_is(r.out, "24 80\r\n") && r.exit.exit_code == 0, "pty: RESIZE: %s", r.out ? r.out : "");
	}
	run_free(&r);

	/* SIGNAL goes to the terminal's session leader (and its group). */
	memset(&r, 0, sizeof(r));
	send_exec(a, 44, &(struct req){ .args = (const char *const[]){ "sleep", "30", NULL }, .env = env,
					 .pty_cols = 80, .pty_rows = 24 });
	if (expect_frame(a, &f, 44, T_STARTED, "pty sleep: started")) {
		r.started = 1;
		uint8_t b[16];
		send_frame(a, 44, T_SIGNAL, 0, b, (size_t)msg_encode_u32_msg(b, sizeof(b), TAG_SIGNO, 2));
		collect(a, 44, &r, 5000);
		CHECK(r.exit.exit_code == -1 && r.exit.signal == 2 && r.ms < 2000, "pty: SIGINT: code=%d signal=%u",
		      r.exit.exit_code, r.exit.signal);
	}
	run_free(&r);

	/* A timeout kills the terminal's group too. */
	r = run(a, 44, &(struct req){ .args = (const char *const[]){ "sleep", "30", NULL }, .env = env,
				      .timeout_ms = 200, .pty_cols = 80, .pty_rows = 24 });
	CHECK(r.exit.timed_out == 1 && r.exit.signal == 9 && r.ms < 2000, "pty: timeout");
	run_free(&r);

	/* 2 MB through the terminal arrives complete (zeros: no newline translation). */
	r = run(a, 45, &(struct req){ .shell = "head -c 2000000 /dev/zero", .env = env, .pty_cols = 80, .pty_rows = 24 });
	CHECK(r.out_len == 2000000 && !r.out_nonzero && r.max_chunk <= MAX_BODY && r.exit.exit_code == 0,
	      "pty: flood %zu bytes", r.out_len);
	run_free(&r);

	/* RESIZE for an unknown stream or a command without a terminal is ignored. */
	send_resize(a, 99, 80, 24);
	memset(&r, 0, sizeof(r));
	send_exec(a, 46, &(struct req){ .shell = "sleep 0.1; echo piped" });
	send_resize(a, 46, 80, 24);
	collect(a, 46, &r, 5000);
	CHECK(str_is(r.out, "piped\n") && r.exit.exit_code == 0, "RESIZE without a terminal ignored");
	run_free(&r);
	send_frame(a, 0, T_PING, 0, "r", 1);
	expect_frame(a, &f, 0, T_PONG, "ping after stray RESIZE");
}

/* ---- forwarded connections ---- */

/* A non-blocking listening TCP socket on 127.0.0.1 with an ephemeral port. */
static int tcp_listen(uint32_t *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = { .sin_family = AF_INET };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(a);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 128) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		abort();
	*port = ntohs(a.sin_port);
	return fd;
}

static int tcp_accept(int lfd)
{
	struct pollfd p = { lfd, POLLIN, 0 };
	if (poll(&p, 1, 5000) != 1)
		return -1;
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	return fd;
}

/* Reads up to cap bytes within timeout_ms: > 0 bytes, 0 EOF, -1 error (errno) or timeout (ETIMEDOUT). */
static ssize_t tcp_read(int fd, void *buf, size_t cap, int timeout_ms)
{
	struct pollfd p = { fd, POLLIN, 0 };
	if (poll(&p, 1, timeout_ms) != 1) {
		errno = ETIMEDOUT;
		return -1;
	}
	return read(fd, buf, cap);
}

static void send_connect(struct agent *a, uint32_t stream, uint32_t port)
{
	uint8_t b[16];
	send_frame(a, stream, T_CONNECT, 0, b, (size_t)msg_encode_u32_msg(b, sizeof(b), TAG_PORT, port));
}

/* Connects stream to port and accepts the agent's connection on lfd; -1 on failure. */
static int forward_open(struct agent *a, uint32_t stream, int lfd, uint32_t port)
{
	struct frame f;
	send_connect(a, stream, port);
	if (!expect_frame(a, &f, stream, T_CONNECTED, "CONNECTED"))
		return -1;
	CHECK(f.len == 0, "CONNECTED has no fields");
	return tcp_accept(lfd);
}

/* Collects STDOUT on stream until want bytes arrived; returns how many did. */
static size_t expect_stdout(struct agent *a, uint32_t stream, char *buf, size_t want)
{
	size_t got = 0;
	struct frame f;
	while (got < want && recv_frame(a, &f, 5000) == 1 && f.stream == stream && f.type == T_STDOUT &&
	       got + f.len <= want) {
		memcpy(buf + got, f.body, f.len);
		got += f.len;
	}
	return got;
}

static void expect_closed(struct agent *a, uint32_t stream, const char *what)
{
	struct frame f;
	if (expect_frame(a, &f, stream, T_CLOSED, what)) {
		struct msg_closed m;
		const char *err;
		CHECK(msg_decode_closed(f.body, f.len, &m, &err) == 0 && !m.has_error, "%s: CLOSED without error",
		      what);
	}
}

static void test_forward(struct agent *a)
{
	uint32_t port;
	int lfd = tcp_listen(&port);
	struct frame f;
	char buf[64];

	/* Both ways, then a stream id shared with commands. */
	int s = forward_open(a, 50, lfd, port);
	CHECK(s >= 0, "forward: accepted");
	send_frame(a, 50, T_STDIN, 0, "ping", 4);
	struct frame pong;
	send_frame(a, 0, T_PING, 0, "p", 1);
	expect_frame(a, &pong, 0, T_PONG, "forward: ping flushes STDIN");
	CHECK(tcp_read(s, buf, sizeof(buf), 2000) == 4 && !memcmp(buf, "ping", 4), "forward: STDIN reaches the socket");
	CHECK(write(s, "pong", 4) == 4, "forward: server writes");
	CHECK(expect_stdout(a, 50, buf, 4) == 4 && !memcmp(buf, "pong", 4), "forward: socket bytes arrive as STDOUT");
	send_exec(a, 50, &(struct req){ .shell = "true" });
	if (expect_frame(a, &f, 50, T_ERROR, "EXEC on a connection stream"))
		CHECK(bytes_eq(error_code(&f), "STREAM_IN_USE"), "EXEC on a connection: STREAM_IN_USE");
	send_connect(a, 50, port);
	if (expect_frame(a, &f, 50, T_ERROR, "CONNECT twice"))
		CHECK(bytes_eq(error_code(&f), "STREAM_IN_USE"), "CONNECT twice: STREAM_IN_USE");

	/* Host half-closes: the server reads EOF and may still answer; its close ends the stream. */
	send_frame(a, 50, T_STDIN, FLAG_END, NULL, 0);
	send_frame(a, 0, T_PING, 0, "p", 1);
	expect_frame(a, &pong, 0, T_PONG, "forward: ping after END");
	CHECK(tcp_read(s, buf, sizeof(buf), 2000) == 0, "forward: END half-closes the socket");
	CHECK(write(s, "bye", 3) == 3, "forward: server writes after the host's END");
	CHECK(expect_stdout(a, 50, buf, 3) == 3 && !memcmp(buf, "bye", 3), "forward: data after half-close");
	close(s);
	if (expect_frame(a, &f, 50, T_STDOUT, "forward: EOF"))
		CHECK(f.len == 0 && f.flags == FLAG_END, "forward: EOF is an empty STDOUT with END");
	expect_closed(a, 50, "forward: both directions done");

	/* The server half-closes first; the host's late bytes and END still arrive. */
	s = forward_open(a, 50, lfd, port);
	shutdown(s, SHUT_WR);
	if (expect_frame(a, &f, 50, T_STDOUT, "server EOF first"))
		CHECK(f.len == 0 && f.flags == FLAG_END, "server EOF first: STDOUT END");
	send_frame(a, 50, T_STDIN, FLAG_END, "late", 4);
	expect_closed(a, 50, "server EOF first: CLOSED after END");
	CHECK(tcp_read(s, buf, sizeof(buf), 2000) == 4 && tcp_read(s, buf, sizeof(buf), 2000) == 0,
	      "server EOF first: late bytes then EOF");
	close(s);

	/* SIGNAL aborts: CLOSED at once, the server sees a reset. */
	s = forward_open(a, 51, lfd, port);
	uint8_t b[16];
	send_frame(a, 51, T_SIGNAL, 0, b, (size_t)msg_encode_u32_msg(b, sizeof(b), TAG_SIGNO, 15));
	expect_closed(a, 51, "abort");
	CHECK(tcp_read(s, buf, sizeof(buf), 2000) < 0 && errno == ECONNRESET, "abort: the server sees a reset");
	close(s);

	/* Nothing listening: CONNECT_FAILED naming the error, and the stream is free again. */
	uint32_t closed_port;
	close(tcp_listen(&closed_port));
	send_connect(a, 52, closed_port);
	if (expect_frame(a, &f, 52, T_ERROR, "refused")) {
		struct msg_error e;
		const char *err;
		msg_decode_error(f.body, f.len, &e, &err);
		CHECK(bytes_eq(e.code, "CONNECT_FAILED") && memmem(e.message.p, e.message.n, "refused", 7),
		      "refused: CONNECT_FAILED: %.*s", (int)e.message.n, (const char *)e.message.p);
	}
	s = forward_open(a, 52, lfd, port);
	CHECK(s >= 0, "refused: stream reusable");
	close(s);
	if (expect_frame(a, &f, 52, T_STDOUT, "peer close"))
		CHECK(f.flags == FLAG_END, "peer close: STDOUT END");
	send_frame(a, 52, T_STDIN, FLAG_END, NULL, 0);
	expect_closed(a, 52, "peer close, then END");

	/* Ports outside 1..65535 are refused on the stream, without ending the connection. */
	send_connect(a, 53, 0);
	if (expect_frame(a, &f, 53, T_ERROR, "port 0"))
		CHECK(bytes_eq(error_code(&f), "BAD_MESSAGE"), "port 0: BAD_MESSAGE");
	send_connect(a, 53, 70000);
	if (expect_frame(a, &f, 53, T_ERROR, "port 70000"))
		CHECK(bytes_eq(error_code(&f), "BAD_MESSAGE"), "port 70000: BAD_MESSAGE");

	/* 4 MiB to a server that reads late: the agent's bounded queue throttles the channel. */
	s = forward_open(a, 54, lfd, port);
	static uint8_t chunk[MAX_BODY];
	memset(chunk, 'y', sizeof(chunk));
	for (int i = 0; i < 64; i++)
		send_frame(a, 54, T_STDIN, 0, chunk, sizeof(chunk));
	send_frame(a, 54, T_STDIN, FLAG_END, NULL, 0);
	recv_frame(a, &f, 300); /* writes what the agent takes; nothing is read by the server yet */
	size_t total = 0;
	ssize_t n;
	static uint8_t big[MAX_BODY];
	long long deadline = now_ms() + 10000;
	for (;;) {
		n = read(s, big, sizeof(big));
		if (n > 0)
			total += (size_t)n;
		if (n == 0 || now_ms() > deadline)
			break;
		if (n < 0)
			recv_frame(a, &f, 5); /* keep feeding the agent */
	}
	CHECK(n == 0 && total == 64u * MAX_BODY, "forward 4 MiB in: %zu bytes", total);

	/* 2 MB out: chunks of at most MAX_BODY, then EOF and CLOSED. Unacknowledged, the agent
	 * stops after FWD_WINDOW bytes; once acknowledging, everything arrives. */
	size_t sent = 0, got = 0, max_chunk = 0, stalled_at = 0;
	int eof = 0, acking = 0;
	long long quiet_since = now_ms();
	deadline = now_ms() + 10000;
	while (!eof && now_ms() < deadline) {
		if (sent < 2000000) {
			n = write(s, big, sent + sizeof(big) > 2000000 ? 2000000 - sent : sizeof(big));
			if (n > 0 && (sent += (size_t)n) == 2000000)
				shutdown(s, SHUT_WR);
		}
		if (recv_frame(a, &f, 5) == 1) {
			CHECK(f.stream == 54 && f.type == T_STDOUT, "forward out: STDOUT only (type %#x)", f.type);
			got += f.len;
			max_chunk = f.len > max_chunk ? f.len : max_chunk;
			eof = f.flags & FLAG_END;
			quiet_since = now_ms();
			if (acking && f.len > 0)
				send_frame(a, 54, T_ACK, 0, b,
					   (size_t)msg_encode_u32_msg(b, sizeof(b), TAG_ACK_BYTES, (uint32_t)f.len));
		} else if (!acking && now_ms() - quiet_since > 300) {
			stalled_at = got;
			acking = 1;
			send_frame(a, 54, T_ACK, 0, b, (size_t)msg_encode_u32_msg(b, sizeof(b), TAG_ACK_BYTES, (uint32_t)got));
		}
	}
	CHECK(stalled_at >= FWD_WINDOW && stalled_at < FWD_WINDOW + MAX_BODY,
	      "forward out: waits for ACK after the window (%zu bytes)", stalled_at);
	CHECK(eof && got == 2000000 && max_chunk <= MAX_BODY, "forward 2 MB out: %zu bytes", got);
	expect_closed(a, 54, "forward 4 MiB in, 2 MB out");
	close(s);

	/* At most MAX_CONNS (64) at once; the kernel's backlog completes them without accept(). */
	int connected = 0, refused = 0, aborted = 0;
	for (uint32_t i = 0; i < 65; i++)
		send_connect(a, 100 + i, port);
	for (int i = 0; i < 65 && recv_frame(a, &f, 5000) == 1; i++) {
		connected += f.type == T_CONNECTED;
		refused += f.type == T_ERROR && f.stream == 164 && bytes_eq(error_code(&f), "TOO_MANY_STREAMS");
	}
	CHECK(connected == 64 && refused == 1, "64 connections, the 65th refused (%d, %d)", connected, refused);
	for (uint32_t i = 0; i < 64; i++)
		send_frame(a, 100 + i, T_SIGNAL, 0, b, (size_t)msg_encode_u32_msg(b, sizeof(b), TAG_SIGNO, 9));
	for (int i = 0; i < 64 && recv_frame(a, &f, 5000) == 1; i++)
		aborted += f.type == T_CLOSED;
	CHECK(aborted == 64, "64 connections aborted (%d)", aborted);
	for (int fd; (fd = accept(lfd, NULL, NULL)) >= 0;)
		close(fd); /* drop them from the backlog */

	/* A new HELLO closes open connections. */
	s = forward_open(a, 55, lfd, port);
	hello(a);
	CHECK(tcp_read(s, buf, sizeof(buf), 2000) <= 0, "new session closes connections");
	close(s);
	close(lfd);
}

static void test_malformed(void)
{
	/* Reserved bytes set: ERROR BAD_FRAME on stream 0, commands killed, exit 1. */
	struct agent *a = agent_start();
	hello(a);
	struct frame f;
	send_exec(a, 1, &(struct req){ .args = (const char *const[]){ "sleep", "10", NULL } });
	uint32_t pid = 0;
	if (expect_frame(a, &f, 1, T_STARTED, "sleep before bad frame")) {
		const char *err;
		msg_decode_u32_msg(f.body, f.len, TAG_PID, &pid, &err);
	}
	send_raw(a, "\x00\x00\x00\x00\x00\x00\x00\x00\x05\x00\x00\x01", 12);
	if (expect_frame(a, &f, 0, T_ERROR, "bad frame"))
		CHECK(bytes_eq(error_code(&f), "BAD_FRAME"), "reserved bytes: BAD_FRAME");
	CHECK(recv_frame(a, &f, 3000) == 0, "bad frame: agent closes the channel");
	CHECK(agent_wait(a, 3000) == 1, "bad frame: exit 1");
	CHECK(pid > 0 && wait_dead((pid_t)pid, 2000), "bad frame: running command killed");

	/* Oversize length. */
	a = agent_start();
	hello(a);
	send_raw(a, "\x00\x01\x00\x01\x00\x00\x00\x01\x21\x00\x00\x00", 12);
	if (expect_frame(a, &f, 0, T_ERROR, "oversize"))
		CHECK(bytes_eq(error_code(&f), "BAD_FRAME"), "oversize: BAD_FRAME");
	CHECK(agent_wait(a, 3000) == 1, "oversize: exit 1");

	/* A field running past the body: BAD_MESSAGE. */
	a = agent_start();
	hello(a);
	send_raw(a, "\x00\x00\x00\x08\x00\x00\x00\x01\x10\x00\x00\x00\x10\x00\x00\x00\x09git", 20);
	if (expect_frame(a, &f, 0, T_ERROR, "tlv overrun"))
		CHECK(bytes_eq(error_code(&f), "BAD_MESSAGE"), "tlv overrun: BAD_MESSAGE");
	CHECK(agent_wait(a, 3000) == 1, "tlv overrun: exit 1");

	/* Unknown type. */
	a = agent_start();
	hello(a);
	send_raw(a, "\x00\x00\x00\x00\x00\x00\x00\x00\xee\x00\x00\x00", 12);
	if (expect_frame(a, &f, 0, T_ERROR, "unknown type"))
		CHECK(bytes_eq(error_code(&f), "BAD_FRAME"), "unknown type: BAD_FRAME");
	CHECK(agent_wait(a, 3000) == 1, "unknown type: exit 1");

	/* RESIZE without rows: BAD_MESSAGE. */
	a = agent_start();
	hello(a);
	send_raw(a, "\x00\x00\x00\x09\x00\x00\x00\x01\x13\x00\x00\x00\x22\x00\x00\x00\x04\x00\x00\x00\x50", 21);
	if (expect_frame(a, &f, 0, T_ERROR, "resize without rows"))
		CHECK(bytes_eq(error_code(&f), "BAD_MESSAGE"), "resize without rows: BAD_MESSAGE");
	CHECK(agent_wait(a, 3000) == 1, "resize without rows: exit 1");

	/* FREEZE without its timeout: BAD_MESSAGE, the connection ends. */
	a = agent_start();
	hello(a);
	send_raw(a, "\x00\x00\x00\x00\x00\x00\x00\x00\x0b\x00\x00\x00", 12);
	if (expect_frame(a, &f, 0, T_ERROR, "freeze without timeout"))
		CHECK(bytes_eq(error_code(&f), "BAD_MESSAGE"), "freeze without timeout: BAD_MESSAGE");
	CHECK(agent_wait(a, 3000) == 1, "freeze without timeout: exit 1");

	/* QUIESCED, then EOF: the host went away; the agent ends as on any EOF. */
	a = agent_start();
	hello(a);
	send_frame(a, 0, T_QUIESCE, 0, NULL, 0);
	expect_frame(a, &f, 0, T_QUIESCED, "quiesce before EOF");
	close(a->to);
	a->to = open("/dev/null", O_WRONLY);
	CHECK(agent_wait(a, 3000) == 0, "EOF while quiesced: exit 0");
}

static void test_eof(void)
{
	struct agent *a = agent_start();
	hello(a);
	struct frame f;
	send_exec(a, 1, &(struct req){ .args = (const char *const[]){ "sleep", "10", NULL } });
	uint32_t pid = 0;
	if (expect_frame(a, &f, 1, T_STARTED, "sleep before EOF")) {
		const char *err;
		msg_decode_u32_msg(f.body, f.len, TAG_PID, &pid, &err);
	}
	flush_out(a);
	close(a->to);
	a->to = open("/dev/null", O_WRONLY);
	CHECK(agent_wait(a, 3000) == 0, "EOF: exit 0");
	CHECK(pid > 0 && wait_dead((pid_t)pid, 2000), "EOF: running command killed");
}

#include "test_fs.inc"

/* ---- session control: HELLO RESUME, QUIESCE, IDENTIFY and FREEZE in host mode ---- */

static void send_hello(struct agent *a, int resume)
{
	uint8_t b[64];
	struct msg_hello h = { .version = 1, .has_resume = resume >= 0, .resume = resume > 0 };
	send_frame(a, 0, T_HELLO, 0, b, (size_t)msg_encode_hello(b, sizeof(b), &h));
}

static uint32_t expect_started(struct agent *a, uint32_t stream, const char *what)
{
	struct frame f;
	uint32_t pid = 0;
	const char *err;
	if (expect_frame(a, &f, stream, T_STARTED, what))
		msg_decode_u32_msg(f.body, f.len, TAG_PID, &pid, &err);
	return pid;
}

/* Reads until QUIESCED, allowing only output of `stream` (and STARTED) before it. */
static int until_quiesced(struct agent *a, uint32_t stream)
{
	struct frame f;
	for (int i = 0; i < 100000; i++) {
		if (recv_frame(a, &f, 5000) != 1)
			return 0;
		if (f.stream == 0 && f.type == T_QUIESCED)
			return 1;
		if (f.stream != stream || (f.type != T_STDOUT && f.type != T_STARTED)) {
			CHECK(0, "before QUIESCED: type %#x on stream %u", f.type, f.stream);
			return 0;
		}
	}
	return 0;
}

static void expect_silence(struct agent *a, int ms, const char *what)
{
	struct frame f;
	int rc = recv_frame(a, &f, ms);
	CHECK(rc == -1, "%s: quiesced agent sent type %#x on stream %u (rc=%d)", what, rc == 1 ? f.type : 0,
	      rc == 1 ? f.stream : 0, rc);
}

static void test_resume(struct agent *a)
{
	struct frame f;
	send_exec(a, 40, &(struct req){ .args = (const char *const[]){ "sleep", "10", NULL } });
	uint32_t kept = expect_started(a, 40, "sleep before HELLO RESUME");
	send_hello(a, 1);
	expect_frame(a, &f, 0, T_HELLO_ACK, "HELLO RESUME");
	CHECK(kept > 0 && !process_dead((pid_t)kept), "HELLO RESUME keeps the running command");
	uint8_t b[16];
	send_frame(a, 40, T_SIGNAL, 0, b, (size_t)msg_encode_u32_msg(b, sizeof(b), TAG_SIGNO, 9));
	struct run r = { .started = 1 };
	collect(a, 40, &r, 5000);
	CHECK(r.exit.signal == 9, "the kept command is still on stream 40 (signal %u)", r.exit.signal);
	run_free(&r);

	send_exec(a, 41, &(struct req){ .args = (const char *const[]){ "sleep", "10", NULL } });
	uint32_t dropped = expect_started(a, 41, "sleep before HELLO RESUME=0");
	send_hello(a, 0);
	expect_frame(a, &f, 0, T_HELLO_ACK, "HELLO RESUME=0");
	CHECK(dropped > 0 && wait_dead((pid_t)dropped, 2000), "HELLO without RESUME=1 starts a new session");
}

static void test_quiesce(struct agent *a)
{
	struct frame f;
	uint8_t b[16];
	/* A flood goes silent at QUIESCED and comes back on the first host frame. */
	send_exec(a, 42, &(struct req){ .shell = "while :; do echo x; done" });
	uint32_t pid = expect_started(a, 42, "flood");
	expect_frame(a, &f, 42, T_STDOUT, "flood output");
	send_frame(a, 0, T_QUIESCE, 0, NULL, 0);
	CHECK(until_quiesced(a, 42), "QUIESCED after the flood's output");
	expect_silence(a, 400, "flood");
	CHECK(pid > 0 && !process_dead((pid_t)pid), "the flood keeps running while quiesced");
	send_hello(a, 1);
	expect_frame(a, &f, 0, T_HELLO_ACK, "resume after flood");
	int out = 0;
	while (out < 3 && recv_frame(a, &f, 5000) == 1)
		out += f.stream == 42 && f.type == T_STDOUT;
	CHECK(out == 3, "the flood speaks again after HELLO RESUME");
	send_frame(a, 42, T_SIGNAL, 0, b, (size_t)msg_encode_u32_msg(b, sizeof(b), TAG_SIGNO, 9));
	struct run r = { .started = 1 };
	collect(a, 42, &r, 5000);
	CHECK(r.exit.signal == 9, "flood killed on its own stream");
	run_free(&r);

	/* A command ending while quiesced: its output and EXIT wait, none is lost. */
	send_exec(a, 43, &(struct req){ .shell = "sleep 0.1; echo done" });
	send_frame(a, 0, T_QUIESCE, 0, NULL, 0);
	CHECK(until_quiesced(a, 43), "QUIESCED with a short command");
	expect_silence(a, 700, "short command");
	/* Any host frame ends the silence, not only HELLO. */
	send_frame(a, 44, T_PING, 0, "p", 1);
	struct run s = { 0 };
	int pong = 0;
	for (int i = 0; i < 10 && !s.exit.duration_ms; i++) {
		if (recv_frame(a, &f, 5000) != 1)
			break;
		if (f.stream == 44 && f.type == T_PONG)
			pong = 1;
		else if (f.stream == 43 && f.type == T_STDOUT)
			append(&s.out, &s.out_len, f.body, f.len);
		else if (f.stream == 43 && f.type == T_EXIT) {
			const char *err;
			msg_decode_exit(f.body, f.len, &s.exit, &err);
			s.started = 1;
			break;
		}
	}
	CHECK(pong && s.started && s.exit.exit_code == 0 && str_is(s.out, "done\n"),
	      "output and EXIT held through the quiesce (pong %d, out %s)", pong, s.out ? s.out : "-");
	run_free(&s);

	/* A command timeout still fires while quiesced; its EXIT waits. */
	send_exec(a, 45, &(struct req){ .args = (const char *const[]){ "sleep", "5", NULL }, .timeout_ms = 100 });
	expect_started(a, 45, "sleep with a timeout");
	send_frame(a, 0, T_QUIESCE, 0, NULL, 0);
	CHECK(until_quiesced(a, 45), "QUIESCED with a timed command");
	expect_silence(a, 500, "timed command");
	send_hello(a, 1);
	expect_frame(a, &f, 0, T_HELLO_ACK, "resume after timeout");
	struct run t = { .started = 1 };
	collect(a, 45, &t, 5000);
	CHECK(t.exit.timed_out == 1 && t.exit.signal == 9 && t.exit.duration_ms < 1000,
	      "timeout while quiesced (timed_out %u, %u ms)", t.exit.timed_out, t.exit.duration_ms);
	run_free(&t);
}

static void send_identify(struct agent *a, const struct msg_identify *m)
{
	uint8_t b[1024];
	send_frame(a, 0, T_IDENTIFY, 0, b, (size_t)msg_encode_identify(b, sizeof(b), m));
}

static void expect_error(struct agent *a, uint32_t stream, const char *code, const char *what)
{
	struct frame f;
	if (expect_frame(a, &f, stream, T_ERROR, what)) {
		struct bytes c = error_code(&f);
		CHECK(bytes_eq(c, code), "%s: code %.*s, want %s", what, (int)c.n, (const char *)c.p, code);
	}
}

/* Host mode refuses to touch the host's identity or file systems; bad values are refused first,
 * and neither ends the session. */
static void test_identify_freeze_host(struct agent *a)
{
	struct frame f;
	static uint8_t ent[32];
	struct msg_identify ok = { bytes_of("pyro-1"), bytes_of("0123456789abcdef0123456789abcdef"), { ent, 32 }, 1,
				   bytes_of("/dev/vdb") };
	send_identify(a, &ok);
	expect_error(a, 0, "UNSUPPORTED", "IDENTIFY in host mode");
	struct msg_identify bad = ok;
	bad.hostname = bytes_of("bad_name");
	send_identify(a, &bad);
	expect_error(a, 0, "INVALID_ARGUMENT", "IDENTIFY with a bad hostname");
	bad = ok;
	bad.workspace_device = bytes_of("/dev/../sda");
	send_identify(a, &bad);
	expect_error(a, 0, "INVALID_ARGUMENT", "IDENTIFY with a device outside /dev");
	uint8_t b[16];
	send_frame(a, 0, T_FREEZE, 0, b, (size_t)msg_encode_u32_msg(b, sizeof(b), TAG_TIMEOUT_MS, 1000));
	expect_error(a, 0, "UNSUPPORTED", "FREEZE in host mode");
	send_frame(a, 0, T_THAW, 0, NULL, 0);
	expect_frame(a, &f, 0, T_THAWED, "THAW when not frozen");
	send_frame(a, 46, T_PING, 0, "k", 1);
	expect_frame(a, &f, 46, T_PONG, "session alive after refused requests");
}

static void cleanup(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", workdir);
	if (system(cmd) != 0)
		printf("warning: could not remove %s\n", workdir);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: test_host PATH-TO-pyro-agent\n");
		return 2;
	}
	agent_path = argv[1];
	signal(SIGPIPE, SIG_IGN);
	alarm(60); /* a hung agent must not hang the build */
	snprintf(workdir, sizeof(workdir), "/tmp/pyro-agent-test.XXXXXX");
	if (!mkdtemp(workdir)) {
		perror("mkdtemp");
		return 2;
	}

	test_handshake();
	struct agent *a = agent_start();
	hello(a);
	test_commands(a);
	test_user(a);
	test_stdin(a);
	test_timeout_and_signals(a);
	test_concurrency(a);
	test_flood(a);
	test_pty(a);
	test_forward(a);
	test_fs_confinement(a);
	test_fs_swap_race(a);
	test_fs_owner(a);
	test_resume(a);
	test_quiesce(a);
	test_identify_freeze_host(a);
	send_frame(a, 0, T_SHUTDOWN, 0, NULL, 0);
	struct frame f;
	expect_frame(a, &f, 0, T_SHUTDOWN_ACK, "final shutdown");
	CHECK(agent_wait(a, 3000) == 0, "agent exits 0 after SHUTDOWN");
	test_malformed();
	test_eof();
	cleanup();

	printf("host: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
