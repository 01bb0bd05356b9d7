/* pyro-netstack: the user-mode network of one VM.
 *
 * usage: pyro-netstack --fd N [--mtu BYTES]
 *
 * Fd N is a connected stream socket whose other end is QEMU's `-netdev stream`: Ethernet
 * frames, each preceded by its length as a 32-bit big-endian integer. libslirp turns the
 * guest's TCP and UDP into ordinary sockets of this process (NAT) and answers DNS on 10.0.2.3
 * with the host's resolvers. Unlike QEMU's built-in slirp it runs with disable_host_loopback:
 * addresses of the virtual network never lead to services on the host's 127.0.0.1.
 *
 * Guest view: 10.0.2.15/24, gateway 10.0.2.2, DNS 10.0.2.3. Exits 0 when QEMU closes its
 * end, 1 on a broken stream, 2 on bad usage. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <slirp/libslirp.h>

#define MAX_FRAME (65536 + 14)
#define MAX_POLL 1024
#define NOBODY 65534

struct timer {
	SlirpTimerCb cb;
	void *cb_opaque;
	int64_t expire_ms; /* -1: not armed */
	struct timer *next;
};

static struct {
	int fd;
	Slirp *slirp;
	struct timer *timers;
	struct pollfd pfd[MAX_POLL];
	int npfd;
	uint8_t in[4 + MAX_FRAME];
	size_t in_len;
} ns;

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "pyro-netstack: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Writes all of buf to the VM, waiting while its socket is full (QEMU drains it). */
static int write_all(const uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(ns.fd, buf, len);
		if (n < 0 && errno == EAGAIN) {
			struct pollfd p = { ns.fd, POLLOUT, 0 };
			poll(&p, 1, 1000);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static ssize_t send_packet(const void *buf, size_t len, void *opaque)
{
	(void)opaque;
	uint8_t header[4] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len };
	if (write_all(header, 4) < 0 || write_all(buf, len) < 0)
		exit(0); /* QEMU is gone */
	return (ssize_t)len;
}

static void guest_error(const char *msg, void *opaque)
{
	(void)opaque;
	fprintf(stderr, "pyro-netstack: guest error: %s\n", msg);
}

static int64_t clock_get_ns(void *opaque)
{
	(void)opaque;
	return now_ns();
}

static void *timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
	(void)opaque;
	struct timer *t = calloc(1, sizeof(*t));
	if (!t)
		die("timer");
	*t = (struct timer){ cb, cb_opaque, -1, ns.timers };
	ns.timers = t;
	return t;
}

static void timer_free(void *timer, void *opaque)
{
	(void)opaque;
	for (struct timer **p = &ns.timers; *p; p = &(*p)->next) {
		if (*p == timer) {
			*p = (*p)->next;
			free(timer);
			return;
		}
	}
}

static void timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	(void)opaque;
	((struct timer *)timer)->expire_ms = expire_ms;
}

static void no_fd(int fd, void *opaque)
{
	(void)fd;
	(void)opaque;
}

static void notify(void *opaque)
{
	(void)opaque;
}

static int add_poll(int fd, int events, void *opaque)
{
	(void)opaque;
	if (ns.npfd >= MAX_POLL)
		return -1;
	short e = 0;
	if (events & SLIRP_POLL_IN)
		e |= POLLIN;
	if (events & SLIRP_POLL_OUT)
		e |= POLLOUT;
	if (events & SLIRP_POLL_PRI)
		e |= POLLPRI;
	ns.pfd[ns.npfd] = (struct pollfd){ fd, e, 0 };
	return ns.npfd++;
}

static int get_revents(int idx, void *opaque)
{
	(void)opaque;
	if (idx < 0 || idx >= ns.npfd)
		return 0;
	short r = ns.pfd[idx].revents;
	int out = 0;
	if (r & POLLIN)
		out |= SLIRP_POLL_IN;
	if (r & POLLOUT)
		out |= SLIRP_POLL_OUT;
	if (r & POLLPRI)
		out |= SLIRP_POLL_PRI;
	if (r & POLLERR)
		out |= SLIRP_POLL_ERR;
	if (r & POLLHUP)
		out |= SLIRP_POLL_HUP;
	return out;
}

/* Feeds every complete frame in the input buffer to libslirp. */
static void take_frames(void)
{
	size_t off = 0;
	while (ns.in_len - off >= 4) {
		const uint8_t *p = ns.in + off;
		size_t len = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
		if (len > MAX_FRAME) {
			fprintf(stderr, "pyro-netstack: frame of %zu bytes from the VM\n", len);
			exit(1);
		}
		if (ns.in_len - off < 4 + len)
			break;
		slirp_input(ns.slirp, p + 4, (int)len);
		off += 4 + len;
	}
	memmove(ns.in, ns.in + off, ns.in_len - off);
	ns.in_len -= off;
}

static void run_timers(void)
{
	int64_t now = now_ns() / 1000000;
	for (struct timer *t = ns.timers; t; t = t->next) {
		if (t->expire_ms >= 0 && t->expire_ms <= now) {
			t->expire_ms = -1;
			t->cb(t->cb_opaque);
			return; /* the callback may have changed the list; the loop comes back */
		}
	}
}

static uint32_t timer_timeout(uint32_t timeout)
{
	int64_t now = now_ns() / 1000000;
	for (struct timer *t = ns.timers; t; t = t->next) {
		if (t->expire_ms < 0)
			continue;
		int64_t left = t->expire_ms > now ? t->expire_ms - now : 0;
		if ((uint64_t)left < timeout)
			timeout = (uint32_t)left;
	}
	return timeout;
}

/* Nothing here needs root once the sockets can be made: run as nobody. */
static void drop_privileges(void)
{
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	if (getuid() != 0)
		return;
	if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
		die("drop privileges");
}

int main(int argc, char **argv)
{
	int fd = -1, mtu = 1500;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--fd"))
			fd = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--mtu"))
			mtu = atoi(argv[i + 1]);
	}
	if (fd < 0 || (argc - 1) % 2 != 0 || mtu < 576 || mtu > 65520) {
		fprintf(stderr, "usage: pyro-netstack --fd N [--mtu 576..65520]\n");
		return 2;
	}
	ns.fd = fd;
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		die("fd");

	static const SlirpCb callbacks = {
		.send_packet = send_packet,
		.guest_error = guest_error,
		.clock_get_ns = clock_get_ns,
		.timer_new = timer_new,
		.timer_free = timer_free,
		.timer_mod = timer_mod,
		.register_poll_fd = no_fd,
		.unregister_poll_fd = no_fd,
		.notify = notify,
	};
	SlirpConfig cfg = {
		.version = 4,
		.in_enabled = true,
		.if_mtu = (size_t)mtu,
		.if_mru = (size_t)mtu,
		.disable_host_loopback = true,
		.disable_dhcp = true, /* the agent configures eth0 from the kernel command line */
	};
	inet_pton(AF_INET, "10.0.2.0", &cfg.vnetwork);
	inet_pton(AF_INET, "255.255.255.0", &cfg.vnetmask);
	inet_pton(AF_INET, "10.0.2.2", &cfg.vhost);
	inet_pton(AF_INET, "10.0.2.15", &cfg.vdhcp_start);
	inet_pton(AF_INET, "10.0.2.3", &cfg.vnameserver);
	ns.slirp = slirp_new(&cfg, &callbacks, NULL);
	if (!ns.slirp)
		die("slirp_new");
	drop_privileges();

	for (;;) {
		uint32_t timeout = 1000;
		ns.npfd = 0;
		int vm = add_poll(fd, SLIRP_POLL_IN, NULL);
		slirp_pollfds_fill(ns.slirp, &timeout, add_poll, NULL);
		timeout = timer_timeout(timeout);
		int rc = poll(ns.pfd, (nfds_t)ns.npfd, (int)timeout);
		if (rc < 0 && errno != EINTR)
			die("poll");
		if (rc > 0 && ns.pfd[vm].revents) {
			ssize_t n = read(fd, ns.in + ns.in_len, sizeof(ns.in) - ns.in_len);
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
				return 0; /* QEMU closed its end */
			if (n > 0) {
				ns.in_len += (size_t)n;
				take_frames();
			}
		}
		slirp_pollfds_poll(ns.slirp, rc < 0, get_revents, NULL);
		run_timers();
	}
}
