/* pyro-netstack: the user-mode network of one VM.
 *
 * usage: pyro-netstack --fd N [--mtu BYTES] [--allow-private-egress]
 *        pyro-netstack --hardening-report
 *
 * Fd N is a connected stream socket whose other end is QEMU's `-netdev stream`: Ethernet
 * frames, each preceded by its length as a 32-bit big-endian integer. libslirp turns the
 * guest's TCP and UDP into ordinary sockets of this process (NAT) and answers DNS on 10.0.2.3
 * with the host's resolvers. Every frame passes the frame filter (frame-filter.h) first: no
 * packet for the host itself (loopback, its interfaces' addresses, link-local) or for a private
 * range (unless --allow-private-egress) ever reaches libslirp. libslirp also runs with
 * disable_host_loopback, so 10.0.2.2 never leads to the host's 127.0.0.1.
 *
 * Once its stack is up the helper hardens itself (hardening.h); --hardening-report does the same
 * and prints what is in force. Guest view: 10.0.2.15/24, gateway 10.0.2.2, DNS 10.0.2.3. Exits 0
 * when QEMU closes its end, 1 on a broken stream or when its supervisor is gone, 2 on bad usage. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <slirp/libslirp.h>

#include "frame-filter.h"
#include "hardening.h"
#include "host-addrs.h"

#define MAX_FRAME (65536 + 14)
#define MAX_POLL 1024
#define HOST_ADDRS_EVERY_MS 5000
#define REPORT_EVERY_MS 10000

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
	struct ff_policy policy;
	int64_t host_addrs_at;
	uint64_t refused[FF_CLASSES], unreported[FF_CLASSES];
	int64_t reported_at[FF_CLASSES];
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

#ifndef PYRO_NETSTACK_UNFILTERED
/* Counts a refusal; one stderr line per class at most every REPORT_EVERY_MS. */
static void count_refusal(enum ff_class why)
{
	int64_t now = now_ns() / 1000000;
	ns.refused[why]++;
	ns.unreported[why]++;
	if (ns.reported_at[why] != 0 && now - ns.reported_at[why] < REPORT_EVERY_MS)
		return;
	fprintf(stderr, "pyro-netstack: refused %llu frame(s) from the guest: %s (%llu in all)\n",
		(unsigned long long)ns.unreported[why], ff_class_name(why), (unsigned long long)ns.refused[why]);
	ns.unreported[why] = 0;
	ns.reported_at[why] = now;
}
#endif

/* The frame filter: a frame libslirp may see, or a refusal the guest hears about at once. */
static void input_frame(const uint8_t *frame, size_t len)
{
#ifndef PYRO_NETSTACK_UNFILTERED
	enum ff_class why = ff_check(frame, len, &ns.policy);
	if (why != FF_PASS) {
		uint8_t reply[FF_REPLY_MAX];
		size_t n = ff_reply(frame, len, why, reply);
		if (n > 0)
			send_packet(reply, n, NULL);
		count_refusal(why);
		return;
	}
#endif
	slirp_input(ns.slirp, frame, (int)len);
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
		input_frame(p + 4, len);
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

/* The host's addresses change (DHCP, VPNs, new containers): they are read again periodically. */
static void refresh_host_addrs(void)
{
	int64_t now = now_ns() / 1000000;
	if (ns.host_addrs_at != 0 && now - ns.host_addrs_at < HOST_ADDRS_EVERY_MS)
		return;
	ns.host_addrs_at = now;
	if (host_addrs_refresh(&ns.policy) < 0)
		fprintf(stderr, "pyro-netstack: reading the host's addresses: %s\n", strerror(errno));
}

static int usage(void)
{
	fprintf(stderr, "usage: pyro-netstack --fd N [--mtu 576..65520] [--allow-private-egress]\n"
			"       pyro-netstack --hardening-report\n");
	return 2;
}

int main(int argc, char **argv)
{
	int fd = -1, mtu = 1500;
	bool report = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--fd") && i + 1 < argc)
			fd = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--mtu") && i + 1 < argc)
			mtu = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--allow-private-egress"))
			ns.policy.allow_private = true;
		else if (!strcmp(argv[i], "--hardening-report"))
			report = true;
		else
			return usage();
	}
	if ((fd < 0 && !report) || mtu < 576 || mtu > 65520)
		return usage();
	pid_t supervisor = getppid();
	ns.fd = fd;
	if (!report && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
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
	harden(supervisor);
	refresh_host_addrs();
	if (report) {
		hardening_report(stdout);
#ifdef PYRO_NETSTACK_UNFILTERED
		printf("frame_filter off\n");
#else
		printf("frame_filter on (%zu host addresses refused%s)\n", ns.policy.n_host,
		       ns.policy.allow_private ? ", private ranges allowed" : "");
#endif
		return 0;
	}

	for (;;) {
		if (getppid() != supervisor)
			return 1; /* the parent death signal is the fast path; this is the backstop */
		refresh_host_addrs();
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
