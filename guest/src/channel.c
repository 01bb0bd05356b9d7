#include "channel.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct channel chan = { -1, -1, 1 };
uint8_t chan_out[HEADER_SIZE + MAX_BODY];

/* The fd may be non-blocking (the guest's virtio port): wait for POLLOUT then.
 * A virtio port reports POLLHUP while no host is connected. */
static int write_full(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			struct pollfd pfd = { fd, POLLOUT, 0 };
			if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
				return -1;
			if (!(pfd.revents & POLLOUT) && (pfd.revents & (POLLHUP | POLLERR | POLLNVAL)))
				return -1;
			continue;
		}
		return -1;
	}
	return 0;
}

/* Frames wait here until the event loop is about to sleep (or the space runs out): many small
 * replies leave in one write, which matters where every write to the port is a VM exit. */
static uint8_t pending[4 * (HEADER_SIZE + MAX_BODY)];
static size_t pending_len;

int chan_flush(void)
{
	size_t n = pending_len;
	pending_len = 0;
	if (chan.lost)
		return -1;
	if (n && write_full(chan.wfd, pending, n) < 0) {
		chan.lost = 1;
		return -1;
	}
	return 0;
}

int chan_send_out(uint32_t stream, uint8_t type, uint8_t flags, size_t len)
{
	if (chan.lost || len > MAX_BODY)
		return -1;
	frame_header_encode(chan_out, (uint32_t)len, stream, type, flags);
	if (pending_len + HEADER_SIZE + len > sizeof(pending) && chan_flush() < 0)
		return -1;
	memcpy(pending + pending_len, chan_out, HEADER_SIZE + len);
	pending_len += HEADER_SIZE + len;
	return 0;
}

int chan_send(uint32_t stream, uint8_t type, uint8_t flags, const void *body, size_t len)
{
	if (len > MAX_BODY)
		return -1;
	if (len)
		memmove(chan_out + HEADER_SIZE, body, len);
	return chan_send_out(stream, type, flags, len);
}

int chan_send_error(uint32_t stream, const char *code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	struct msg_error e = { bytes_of(code), bytes_of(msg) };
	long len = msg_encode_error(chan_out + HEADER_SIZE, MAX_BODY, &e);
	return len < 0 ? -1 : chan_send_out(stream, T_ERROR, 0, (size_t)len);
}
