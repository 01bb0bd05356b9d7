#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define IFACE "eth0"
#define IFACE_WAIT_MS 5000

struct net_spec {
	struct in_addr address, netmask, gateway, dns;
	int has_dns;
	int mtu;
};

static int parse_spec(const char *spec, struct net_spec *out)
{
	char buf[128], *fields[4];
	int n = 0;
	snprintf(buf, sizeof(buf), "%s", spec);
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok && n < 4; tok = strtok_r(NULL, ",", &save))
		fields[n++] = tok;
	if (n != 4)
		return -1;
	char *slash = strchr(fields[0], '/');
	if (!slash)
		return -1;
	*slash = 0;
	int prefix = atoi(slash + 1);
	if (prefix < 1 || prefix > 32 || inet_pton(AF_INET, fields[0], &out->address) != 1 ||
	    inet_pton(AF_INET, fields[1], &out->gateway) != 1)
		return -1;
	out->netmask.s_addr = htonl(prefix == 32 ? 0xffffffffu : ~(0xffffffffu >> prefix));
	out->has_dns = strcmp(fields[2], "-") != 0;
	if (out->has_dns && inet_pton(AF_INET, fields[2], &out->dns) != 1)
		return -1;
	out->mtu = atoi(fields[3]);
	return out->mtu >= 576 && out->mtu <= 65520 ? 0 : -1;
}

static int set_addr(int s, unsigned long request, struct in_addr addr)
{
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, IFACE);
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	sin->sin_family = AF_INET;
	sin->sin_addr = addr;
	return ioctl(s, request, &ifr);
}

static int add_route(int s, struct in_addr dst, struct in_addr mask, struct in_addr gateway, int flags)
{
	struct rtentry rt;
	memset(&rt, 0, sizeof(rt));
	struct sockaddr_in *d = (struct sockaddr_in *)&rt.rt_dst, *m = (struct sockaddr_in *)&rt.rt_genmask,
			   *g = (struct sockaddr_in *)&rt.rt_gateway;
	d->sin_family = m->sin_family = g->sin_family = AF_INET;
	d->sin_addr = dst;
	m->sin_addr = mask;
	g->sin_addr = gateway;
	rt.rt_flags = (unsigned short)(RTF_UP | flags);
	rt.rt_dev = (char *)IFACE;
	return ioctl(s, SIOCADDRT, &rt) < 0 && errno != EEXIST ? -1 : 0;
}

/* virtio_net probes asynchronously after its module loads. */
static int wait_for_iface(int s)
{
	int64_t deadline = now_ms() + IFACE_WAIT_MS;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, IFACE);
	while (ioctl(s, SIOCGIFINDEX, &ifr) < 0) {
		if (now_ms() >= deadline)
			return -1;
		sleep_ms(10);
	}
	return 0;
}

static void write_resolv_conf(const struct net_spec *n)
{
	char text[64], addr[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &n->dns, addr, sizeof(addr));
	int len = snprintf(text, sizeof(text), "nameserver %s\n", addr);
	/* The image may ship a symlink into a resolver daemon's runtime dir: replace it. */
	unlink("/etc/resolv.conf");
	int fd = open("/etc/resolv.conf", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0 || write(fd, text, (size_t)len) != len)
		agent_log("resolv.conf: %s", strerror(errno));
	if (fd >= 0)
		close(fd);
}

int guest_network_setup(const char *spec)
{
	struct net_spec n;
	if (parse_spec(spec, &n) < 0) {
		agent_log("network: bad pyro.net=%s", spec);
		return -1;
	}
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	int rc = -1;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, IFACE);
	ifr.ifr_mtu = n.mtu;
	struct in_addr any = { 0 }, host_mask = { htonl(0xffffffffu) };
	if (wait_for_iface(s) < 0) {
		agent_log("network: no %s appeared", IFACE);
	} else if (ioctl(s, SIOCSIFMTU, &ifr) < 0 || set_addr(s, SIOCSIFADDR, n.address) < 0 ||
		   set_addr(s, SIOCSIFNETMASK, n.netmask) < 0) {
		agent_log("network: configure %s: %s", IFACE, strerror(errno));
	} else if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0 || (ifr.ifr_flags |= IFF_UP | IFF_RUNNING, 0) ||
		   ioctl(s, SIOCSIFFLAGS, &ifr) < 0) {
		agent_log("network: bring up %s: %s", IFACE, strerror(errno));
	} else if (add_route(s, n.gateway, host_mask, any, RTF_HOST) < 0 ||
		   add_route(s, any, any, n.gateway, RTF_GATEWAY) < 0) {
		/* The host route makes a gateway outside the prefix reachable, as on /32 hosts. */
		agent_log("network: default route: %s", strerror(errno));
	} else {
		if (n.has_dns)
			write_resolv_conf(&n);
		agent_log("network: %s up", IFACE);
		rc = 0;
	}
	close(s);
	return rc;
}
