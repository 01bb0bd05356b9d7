#include "forward.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "channel.h"

struct conn {
	int used;
	uint32_t stream;
	uint16_t port;
	int fd;
	int connecting; /* non-blocking connect in progress: POLLOUT tells when it is done */
	uint8_t *q;     /* pending bytes for the socket [q_off, q_len) */
	size_t q_len, q_off;
	int wr_end;  /* the host half-closed: shut down writing once the queue drains */
	int wr_done; /* shutdown(SHUT_WR) done */
	int rd_done; /* socket EOF forwarded as STDOUT END */
	size_t unacked; /* bytes sent as STDOUT that the host has not acknowledged */
	int pfd_at;  /* this connection's pollfd slot, or -1 */
};

static struct conn conns[MAX_CONNS];

struct conn *fwd_find(uint32_t stream)
{
	for (int i = 0; i < MAX_CONNS; i++)
		if (conns[i].used && conns[i].stream == stream)
			return &conns[i];
	return NULL;
}

int fwd_count(void)
{
	int n = 0;
	for (int i = 0; i < MAX_CONNS; i++)
		n += conns[i].used;
	return n;
}

static void conn_free(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->q);
	memset(c, 0, sizeof(*c));
}

static void send_closed(struct conn *c, int err)
{
	struct msg_closed m = { err != 0, bytes_of(err ? strerror(err) : "") };
	long len = msg_encode_closed(chan_out + HEADER_SIZE, MAX_BODY, &m);
	if (len >= 0)
		chan_send_out(c->stream, T_CLOSED, 0, (size_t)len);
	conn_free(c);
}

static int sock_error(int fd)
{
	int e = 0;
	socklen_t len = sizeof(e);
	return getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0 ? errno : e;
}

/* Writes what is queued; 0, or the errno of a failed socket. */
static int flush(struct conn *c)
{
	while (c->q_off < c->q_len) {
		ssize_t w = send(c->fd, c->q + c->q_off, c->q_len - c->q_off, MSG_NOSIGNAL);
		if (w > 0)
			c->q_off += (size_t)w;
		else if (w < 0 && errno == EINTR)
			continue;
		else if (w < 0 && errno == EAGAIN)
			return 0;
		else
			return w < 0 ? errno : EPIPE;
	}
	free(c->q);
	c->q = NULL;
	c->q_off = c->q_len = 0;
	if (c->wr_end && !c->wr_done) {
		shutdown(c->fd, SHUT_WR);
		c->wr_done = 1;
	}
	return 0;
}

/* CLOSED once the socket failed or both directions are finished. */
static void settle(struct conn *c, int err)
{
	if (err || (c->rd_done && c->wr_done))
		send_closed(c, err);
}

static void connect_done(struct conn *c, int err)
{
	if (err) {
		chan_send_error(c->stream, "CONNECT_FAILED", "cannot connect to 127.0.0.1:%u: %s", c->port,
				strerror(err));
		conn_free(c);
		return;
	}
	c->connecting = 0;
	chan_send(c->stream, T_CONNECTED, 0, NULL, 0);
	settle(c, flush(c)); /* STDIN may have arrived while connecting */
}

void fwd_connect(uint32_t stream, uint16_t port)
{
	struct conn *c = NULL;
	for (int i = 0; i < MAX_CONNS && !c; i++)
		if (!conns[i].used)
			c = &conns[i];
	if (!c)
		return;
	c->used = 1;
	c->stream = stream;
	c->port = port;
	c->pfd_at = -1;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return connect_done(c, errno);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(c->fd, (struct sockaddr *)&a, sizeof(a)) == 0)
		return connect_done(c, 0);
	if (errno == EINPROGRESS || errno == EINTR)
		c->connecting = 1;
	else
		connect_done(c, errno);
}

void fwd_stdin(struct conn *c, const uint8_t *p, size_t n, int end)
{
	if (c->wr_end)
		return; /* nothing may follow END */
	if (n) {
		if (c->q_off > 0) {
			memmove(c->q, c->q + c->q_off, c->q_len - c->q_off);
			c->q_len -= c->q_off;
			c->q_off = 0;
		}
		uint8_t *q = realloc(c->q, c->q_len + n);
		if (!q) {
			fwd_abort(c);
			return;
		}
		memcpy(q + c->q_len, p, n);
		c->q = q;
		c->q_len += n;
	}
	c->wr_end = end;
	if (!c->connecting)
		settle(c, flush(c)); /* usually the socket has room: skip a poll round */
}

void fwd_abort(struct conn *c)
{
	/* Linger 0: close() resets the connection instead of finishing it. */
	struct linger l = { 1, 0 };
	if (c->fd >= 0)
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	send_closed(c, 0);
}

size_t fwd_backlog(void)
{
	size_t n = 0;
	for (int i = 0; i < MAX_CONNS; i++)
		if (conns[i].used)
			n += conns[i].q_len - conns[i].q_off;
	return n;
}

static int readable(const struct conn *c)
{
	return !c->rd_done && c->unacked < FWD_WINDOW;
}

void fwd_ack(struct conn *c, uint32_t bytes)
{
	c->unacked = bytes >= c->unacked ? 0 : c->unacked - bytes;
}

int fwd_pollfds(struct pollfd *pfd, int at, int cap, int quiet)
{
	for (int i = 0; i < MAX_CONNS; i++) {
		struct conn *c = &conns[i];
		c->pfd_at = -1;
		if (!c->used || at >= cap || quiet)
			continue;
		short ev = POLLOUT;
		if (!c->connecting)
			ev = (short)((readable(c) ? POLLIN : 0) | (c->q_off < c->q_len ? POLLOUT : 0));
		if (ev == 0 && !c->rd_done)
			continue; /* window full: not even a hang-up matters until the host acknowledges */
		c->pfd_at = at;
		pfd[at++] = (struct pollfd){ c->fd, ev, 0 };
	}
	return at;
}

/* One read per readable socket per loop turn, like a command's pipes. */
static int forward(struct conn *c)
{
	ssize_t n = recv(c->fd, chan_out + HEADER_SIZE, MAX_BODY, 0);
	if (n > 0) {
		c->unacked += (size_t)n;
		chan_send_out(c->stream, T_STDOUT, 0, (size_t)n);
	} else if (n == 0) {
		c->rd_done = 1;
		chan_send_out(c->stream, T_STDOUT, FLAG_END, 0);
	} else if (errno != EAGAIN && errno != EINTR) {
		return errno;
	}
	return 0;
}

void fwd_pollevents(const struct pollfd *pfd, int n)
{
	for (int i = 0; i < MAX_CONNS; i++) {
		struct conn *c = &conns[i];
		int at = c->pfd_at;
		if (!c->used || at < 0 || at >= n || pfd[at].fd != c->fd || !pfd[at].revents)
			continue;
		short re = pfd[at].revents;
		if (c->connecting) {
			connect_done(c, sock_error(c->fd));
			continue;
		}
		int err = 0;
		if ((re & (POLLOUT | POLLERR)) && c->q_off < c->q_len)
			err = flush(c);
		if (!err && readable(c) && (re & (POLLIN | POLLHUP | POLLERR))) {
			err = forward(c);
		} else if (!err && c->rd_done && (re & (POLLHUP | POLLERR))) {
			err = sock_error(c->fd); /* reset while we wait for the host */
			err = err ? err : ECONNRESET;
		}
		settle(c, err);
	}
}

void fwd_kill_all(void)
{
	for (int i = 0; i < MAX_CONNS; i++)
		if (conns[i].used)
			conn_free(&conns[i]);
}
