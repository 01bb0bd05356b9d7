#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#include "channel.h"
#include "util.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct cmd {
	int used;
	uint32_t stream;
	pid_t pid; /* also the process group id */
	int reaped, status, timed_out;
	int pty; /* on a pseudo-terminal: fd_out is the master, fd_in a dup of it, fd_err -1 */
	int fd_out, fd_err, fd_in;
	int64_t t_start, t_deadline, t_drain;
	uint32_t duration_ms;
	uint8_t *inq; /* pending stdin bytes [inq_off, inq_len) */
	size_t inq_len, inq_off;
	int in_end; /* close stdin once the queue drains */
	int pfd_at; /* first of this command's three pollfd slots, or -1 */
};

static struct cmd cmds[MAX_CMDS];

struct cmd *cmd_find(uint32_t stream)
{
	for (int i = 0; i < MAX_CMDS; i++)
		if (cmds[i].used && cmds[i].stream == stream)
			return &cmds[i];
	return NULL;
}

int cmd_count(void)
{
	int n = 0;
	for (int i = 0; i < MAX_CMDS; i++)
		n += cmds[i].used;
	return n;
}

pid_t cmd_pid(const struct cmd *c)
{
	return c->pid;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void drop_stdin(struct cmd *c)
{
	close_fd(&c->fd_in);
	free(c->inq);
	c->inq = NULL;
	c->inq_len = c->inq_off = 0;
}

static void cmd_free(struct cmd *c)
{
	close_fd(&c->fd_out);
	close_fd(&c->fd_err);
	drop_stdin(c);
	c->used = 0;
}

/* NUL-terminated copies of the request's strings in one allocation. */
static char **cstr_vec(const struct bytes *v, uint32_t n)
{
	size_t bytes = 0;
	for (uint32_t i = 0; i < n; i++)
		bytes += v[i].n + 1u;
	char **out = malloc((n + 1) * sizeof(char *) + bytes);
	if (!out)
		return NULL;
	char *s = (char *)(out + n + 1);
	for (uint32_t i = 0; i < n; i++) {
		memcpy(s, v[i].p, v[i].n);
		s[v[i].n] = 0;
		out[i] = s;
		s += v[i].n + 1;
	}
	out[n] = NULL;
	return out;
}

static const char *env_path(char **envp)
{
	for (; *envp; envp++)
		if (strncmp(*envp, "PATH=", 5) == 0)
			return *envp + 5;
	return DEFAULT_PATH;
}

/* execvpe semantics with the command's own PATH; returns the errno that decides
 * the shell-like exit status (ENOENT -> 127, anything else -> 126). */
static int exec_search(const char *file, char **argv, char **envp)
{
	if (strchr(file, '/')) {
		execve(file, argv, envp);
		return errno;
	}
	const char *path = env_path(envp);
	size_t flen = strlen(file);
	int seen_eacces = 0;
	char buf[4096];
	for (const char *p = path;; p++) {
		const char *end = strchrnul(p, ':');
		size_t dlen = (size_t)(end - p);
		if (dlen + flen + 2 <= sizeof(buf)) {
			if (dlen == 0) {
				memcpy(buf, file, flen + 1);
			} else {
				memcpy(buf, p, dlen);
				buf[dlen] = '/';
				memcpy(buf + dlen + 1, file, flen + 1);
			}
			execve(buf, argv, envp);
			if (errno == EACCES)
				seen_eacces = 1;
			else if (errno != ENOENT && errno != ENOTDIR && errno != ENAMETOOLONG &&
				 errno != ELOOP)
				return errno;
		}
		if (!*end)
			break;
		p = end;
	}
	return seen_eacces ? EACCES : ENOENT;
}

static void child_reset_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (int s = 1; s < NSIG; s++)
		sigaction(s, &sa, NULL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Runs in the forked child: never returns. Messages go to the command's own
 * stderr so an exec failure looks like a shell's "command not found".
 * With a terminal (pts != NULL) the slave becomes the controlling terminal and
 * fds 0-2; in, out and err are ignored. */
/* Drops to the requested user: supplementary groups first (only root may change them), then
 * the group, then the user. */
static int child_become(const struct msg_exec *m)
{
	if (!m->has_uid)
		return 0;
	gid_t gid = (gid_t)m->gid;
	if (setgroups(1, &gid) < 0 || setgid(gid) < 0 || setuid((uid_t)m->uid) < 0)
		return -1;
	return 0;
}

static void child_exec(const char *file, char **argv, char **envp, const char *cwd, int in, int out,
		       int err, const char *pts, const struct msg_exec *m)
{
	setsid();
	child_reset_signals();
	if (pts) {
		/* A session leader without a terminal acquires the first tty it opens;
		 * TIOCSCTTY makes that explicit. */
		int fd = open(pts, O_RDWR);
		if (fd < 0)
			_exit(126);
		ioctl(fd, TIOCSCTTY, 0);
		in = out = err = fd;
	}
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		_exit(126);
	/* Ours are CLOEXEC anyway; this also drops fds the agent itself inherited
	 * (host mode), so a command holds nothing but its three streams. */
	if (syscall(SYS_close_range, 3u, ~0u, 0u) < 0)
		for (int fd = 3; fd < 4096; fd++)
			close(fd);
	if (child_become(m) < 0) {
		dprintf(2, "pyro-agent: cannot run as %u:%u: %s\n", m->uid, m->gid, strerror(errno));
		_exit(126);
	}
	if (chdir(cwd) < 0) {
		dprintf(2, "pyro-agent: cd %s: %s\n", cwd, strerror(errno));
		_exit(126);
	}
	int e = exec_search(file, argv, envp);
	if (e == ENOENT && !strchr(file, '/')) {
		dprintf(2, "pyro-agent: %s: command not found\n", file);
		_exit(127);
	}
	dprintf(2, "pyro-agent: %s: %s\n", file, strerror(e));
	_exit(e == ENOENT ? 127 : 126);
}

static uint16_t win_dim(uint32_t v)
{
	return v > 0xffff ? 0xffff : (uint16_t)v;
}

static int set_winsize(int fd, uint32_t cols, uint32_t rows)
{
	struct winsize ws = { .ws_row = win_dim(rows), .ws_col = win_dim(cols) };
	return ioctl(fd, TIOCSWINSZ, &ws);
}

/* A new terminal: the master (CLOEXEC, so no command inherits it) and the
 * slave's path, which only the child opens: the slave must close when the
 * command's processes are gone, so that reading the master ends (EIO). */
static int open_pty(uint32_t cols, uint32_t rows, char *pts, size_t cap)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0)
		return -1;
	int e = 0;
	if (grantpt(m) < 0 || unlockpt(m) < 0 || (e = ptsname_r(m, pts, cap)) != 0 ||
	    set_winsize(m, cols, rows) < 0) {
		e = e ? e : errno; /* ptsname_r returns its error */
		close(m);
		errno = e;
		return -1;
	}
	return m;
}

struct cmd *cmd_start(uint32_t stream, const struct msg_exec *m, const char *cwd, int devnull_fd,
		      const char **code, char *msg, size_t msgcap)
{
	struct cmd *c = NULL;
	for (int i = 0; i < MAX_CMDS && !c; i++)
		if (!cmds[i].used)
			c = &cmds[i];
	struct stat st;
	if (stat(cwd, &st) < 0 || !S_ISDIR(st.st_mode)) {
		*code = "CWD_NOT_FOUND";
		snprintf(msg, msgcap, "no such directory: %s", cwd);
		return NULL;
	}
	if (!c) {
		*code = "TOO_MANY_STREAMS";
		snprintf(msg, msgcap, "at most %d commands may run at once", MAX_CMDS);
		return NULL;
	}
	struct bytes sh[3] = { bytes_of("sh"), bytes_of("-c"), m->shell };
	char **argv = m->has_shell ? cstr_vec(sh, 3) : cstr_vec(m->args, m->nargs);
	char **envp = cstr_vec(m->env, m->nenv);
	int p_out[2] = { -1, -1 }, p_err[2] = { -1, -1 }, p_in[2] = { -1, -1 };
	int pty = msg_exec_pty(m);
	int want_stdin = pty || (m->has_stdin && m->stdin_mode == 1);
	char pts[64];
	int ok = argv && envp;
	if (ok && pty) {
		/* p_out[0] is the master for reading; p_in[1] a second fd on it for
		 * writing, so the pipe machinery (poll slots, stdin queue) applies as is. */
		ok = (p_out[0] = open_pty(m->pty_cols, m->pty_rows, pts, sizeof(pts))) >= 0 &&
		     (p_in[1] = fcntl(p_out[0], F_DUPFD_CLOEXEC, 3)) >= 0;
	} else if (ok) {
		ok = pipe2(p_out, O_CLOEXEC) == 0 && pipe2(p_err, O_CLOEXEC) == 0;
		/* No /dev/null (should not happen): an empty pipe reads as EOF just the same. */
		if (ok && (want_stdin || devnull_fd < 0))
			ok = pipe2(p_in, O_CLOEXEC) == 0;
	}
	pid_t pid = -1;
	int64_t t0 = now_ms();
	if (ok) {
		pid = fork();
		if (pid == 0)
			child_exec(m->has_shell ? "/bin/sh" : argv[0], argv, envp, cwd,
				   p_in[0] >= 0 ? p_in[0] : devnull_fd, p_out[1], p_err[1], pty ? pts : NULL, m);
	}
	int saved = errno;
	free(argv);
	free(envp);
	close_fd(&p_out[1]);
	close_fd(&p_err[1]);
	close_fd(&p_in[0]);
	if (!ok || pid < 0) {
		close_fd(&p_out[0]);
		close_fd(&p_err[0]);
		close_fd(&p_in[1]);
		*code = "SPAWN_FAILED";
		snprintf(msg, msgcap, "cannot start command: %s", strerror(saved));
		return NULL;
	}
	memset(c, 0, sizeof(*c));
	c->used = 1;
	c->pfd_at = -1;
	c->stream = stream;
	c->pid = pid;
	c->pty = pty;
	c->fd_out = p_out[0];
	c->fd_err = p_err[0];
	c->fd_in = want_stdin ? p_in[1] : -1;
	if (!want_stdin)
		close_fd(&p_in[1]);
	set_nonblock(c->fd_out); /* with a terminal, this also makes fd_in non-blocking */
	if (c->fd_err >= 0)
		set_nonblock(c->fd_err);
	if (c->fd_in >= 0)
		set_nonblock(c->fd_in);
	c->t_start = t0;
	c->t_deadline = m->has_timeout && m->timeout_ms ? t0 + m->timeout_ms : 0;
	return c;
}

static void flush_stdin(struct cmd *c)
{
	while (c->fd_in >= 0 && c->inq_off < c->inq_len) {
		ssize_t w = write(c->fd_in, c->inq + c->inq_off, c->inq_len - c->inq_off);
		if (w > 0) {
			c->inq_off += (size_t)w;
		} else if (w < 0 && errno == EINTR) {
			continue;
		} else if (w < 0 && errno == EAGAIN) {
			return;
		} else {
			/* EPIPE: the command closed its stdin; EIO: nobody holds the terminal. */
			drop_stdin(c);
			return;
		}
	}
	if (c->inq_off == c->inq_len) {
		/* Fully written: release the memory rather than keep the high-water mark. */
		free(c->inq);
		c->inq = NULL;
		c->inq_off = c->inq_len = 0;
		if (c->in_end)
			drop_stdin(c);
	}
}

void cmd_stdin(struct cmd *c, const uint8_t *p, size_t n, int end)
{
	if (c->fd_in < 0)
		return; /* stdin is /dev/null or already closed: nothing to feed */
	if (c->pty)
		end = 0; /* a terminal has no end of input; the host sends ^D as data */
	if (n) {
		if (c->inq_off > 0) {
			memmove(c->inq, c->inq + c->inq_off, c->inq_len - c->inq_off);
			c->inq_len -= c->inq_off;
			c->inq_off = 0;
		}
		uint8_t *q = realloc(c->inq, c->inq_len + n);
		if (!q) {
			drop_stdin(c);
			return;
		}
		memcpy(q + c->inq_len, p, n);
		c->inq = q;
		c->inq_len += n;
	}
	if (end)
		c->in_end = 1;
	flush_stdin(c); /* usually the pipe has room: skip a poll round */
}

size_t cmd_stdin_backlog(void)
{
	size_t n = 0;
	for (int i = 0; i < MAX_CMDS; i++)
		if (cmds[i].used)
			n += cmds[i].inq_len - cmds[i].inq_off;
	return n;
}

void cmd_signal(struct cmd *c, int signo)
{
	/* The group may outlive the main process while we drain; the pgid stays
	 * reserved as long as any member lives. */
	if (kill(-c->pid, signo) < 0 && !c->reaped)
		kill(c->pid, signo);
}

void cmd_resize(struct cmd *c, uint32_t cols, uint32_t rows)
{
	/* After EIO the master is closed: nobody is left to resize for. */
	if (c->pty && c->fd_out >= 0)
		set_winsize(c->fd_out, cols, rows);
}

int cmd_pollfds(struct pollfd *pfd, int at, int cap, int output)
{
	for (int i = 0; i < MAX_CMDS; i++) {
		struct cmd *c = &cmds[i];
		c->pfd_at = -1;
		if (!c->used || at + 3 > cap)
			continue;
		/* Three slots per command; poll ignores fd -1. */
		c->pfd_at = at;
		pfd[at++] = (struct pollfd){ output ? c->fd_out : -1, POLLIN, 0 };
		pfd[at++] = (struct pollfd){ output ? c->fd_err : -1, POLLIN, 0 };
		pfd[at++] = (struct pollfd){ c->inq_off < c->inq_len ? c->fd_in : -1, POLLOUT, 0 };
	}
	return at;
}

/* One read per readable pipe per loop turn keeps streams fair; each read is one frame.
 * A terminal master reads EIO once the slave is closed everywhere: its EOF. */
static void forward(struct cmd *c, int *fd, uint8_t type)
{
	ssize_t n = read(*fd, chan_out + HEADER_SIZE, MAX_BODY);
	if (n > 0)
		chan_send_out(c->stream, type, 0, (size_t)n);
	else if (n == 0 || (errno != EAGAIN && errno != EINTR))
		close_fd(fd);
}

void cmd_pollevents(const struct pollfd *pfd, int n)
{
	for (int i = 0; i < MAX_CMDS; i++) {
		struct cmd *c = &cmds[i];
		int at = c->pfd_at;
		if (!c->used || at < 0 || at + 3 > n)
			continue;
		/* Compare fds too: a pipe may have been closed since poll() was set up. */
		if (pfd[at].revents && pfd[at].fd == c->fd_out && c->fd_out >= 0)
			forward(c, &c->fd_out, T_STDOUT);
		if (pfd[at + 1].revents && pfd[at + 1].fd == c->fd_err && c->fd_err >= 0)
			forward(c, &c->fd_err, T_STDERR);
		if (pfd[at + 2].revents && pfd[at + 2].fd == c->fd_in && c->fd_in >= 0)
			flush_stdin(c);
	}
}

void cmd_reaped(pid_t pid, int status)
{
	for (int i = 0; i < MAX_CMDS; i++) {
		struct cmd *c = &cmds[i];
		if (c->used && !c->reaped && c->pid == pid) {
			int64_t now = now_ms();
			c->reaped = 1;
			c->status = status;
			c->duration_ms = (uint32_t)(now - c->t_start);
			c->t_drain = now + DRAIN_MS;
			/* Nobody reads stdin any more. */
			drop_stdin(c);
			return;
		}
	}
	/* Not ours: an orphan re-parented to PID 1, or a command we already forgot. */
}

static void send_exit(struct cmd *c)
{
	struct msg_exit e = { 0, 0, (uint32_t)c->timed_out, c->duration_ms };
	if (WIFEXITED(c->status)) {
		e.exit_code = WEXITSTATUS(c->status);
	} else if (WIFSIGNALED(c->status)) {
		e.exit_code = -1;
		e.signal = (uint32_t)WTERMSIG(c->status);
	}
	long len = msg_encode_exit(chan_out + HEADER_SIZE, MAX_BODY, &e);
	if (len >= 0)
		chan_send_out(c->stream, T_EXIT, 0, (size_t)len);
}

int64_t cmd_tick(int64_t now, int quiet)
{
	int64_t next = -1;
	for (int i = 0; i < MAX_CMDS; i++) {
		struct cmd *c = &cmds[i];
		if (!c->used)
			continue;
		if (!c->reaped && c->t_deadline) {
			if (now >= c->t_deadline && !c->timed_out) {
				c->timed_out = 1;
				kill(-c->pid, SIGKILL);
				kill(c->pid, SIGKILL);
			}
			if (!c->timed_out && (next < 0 || c->t_deadline < next))
				next = c->t_deadline;
		}
		if (!c->reaped || quiet)
			continue;
		if ((c->fd_out < 0 && c->fd_err < 0) || now >= c->t_drain) {
			/* A background child may still hold the pipes; it gets EPIPE from now on. */
			close_fd(&c->fd_out);
			close_fd(&c->fd_err);
			send_exit(c);
			cmd_free(c);
		} else if (next < 0 || c->t_drain < next) {
			next = c->t_drain;
		}
	}
	return next;
}

void cmd_resumed(int64_t now)
{
	for (int i = 0; i < MAX_CMDS; i++)
		if (cmds[i].used && cmds[i].reaped && cmds[i].t_drain < now + DRAIN_MS)
			cmds[i].t_drain = now + DRAIN_MS;
}

void cmd_kill_all(void)
{
	for (int i = 0; i < MAX_CMDS; i++) {
		struct cmd *c = &cmds[i];
		if (!c->used)
			continue;
		if (!c->reaped) {
			kill(-c->pid, SIGKILL);
			kill(c->pid, SIGKILL);
		} else {
			kill(-c->pid, SIGKILL); /* background members still in the group */
		}
		/* The zombie is reaped later by the waitpid(-1) loop; nothing matches it then. */
		cmd_free(c);
	}
}
