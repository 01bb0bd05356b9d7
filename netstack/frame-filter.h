/* The egress frame filter: what a guest may hand to libslirp, decided per Ethernet frame.
 *
 * Pure functions (no I/O, no state): every frame the guest writes goes through ff_check before
 * slirp_input. Only ARP and IPv4 pass. IPv4 may go to a unicast address outside the host's own
 * ranges, to the DNS alias for DNS, and to the gateway for ping. Everything else is refused;
 * ff_reply builds what tells the guest so at once (a TCP RST or an ICMP "administratively
 * prohibited"), so a refused connection fails fast instead of hanging. */
#ifndef PYRO_FRAME_FILTER_H
#define PYRO_FRAME_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FF_MAX_HOST_ADDRS 256

/* Why a frame was refused; FF_PASS (0) when it was not. Keep ff_class_name in step. */
enum ff_class {
	FF_PASS = 0,
	FF_NOT_IPV4,     /* IPv6, VLAN-tagged, any other ethertype: dropped */
	FF_MALFORMED,    /* truncated or inconsistent headers, IP options: dropped */
	FF_SPOOFED,      /* source outside the guest's own network: dropped */
	FF_LOOPBACK,     /* 127/8 */
	FF_THIS_NETWORK, /* 0/8 */
	FF_LINK_LOCAL,   /* 169.254/16, cloud metadata included */
	FF_MULTICAST,    /* 224/4 */
	FF_RESERVED,     /* 240/4 and 255.255.255.255 */
	FF_VIRTUAL_NET,  /* the rest of 10.0.2.0/24 */
	FF_GATEWAY,      /* 10.0.2.2 beyond ping */
	FF_DNS,          /* 10.0.2.3 beyond DNS (port 53) */
	FF_HOST_ADDRESS, /* an address of one of the host's interfaces */
	FF_PRIVATE,      /* 10/8, 172.16/12, 192.168/16, 100.64/10 without --allow-private-egress */
	FF_CLASSES
};

struct ff_policy {
	bool allow_private;
	size_t n_host;
	uint32_t host[FF_MAX_HOST_ADDRS]; /* IPv4 addresses of the host, host byte order */
};

/* The verdict on one frame (the Ethernet header included, no length prefix). */
enum ff_class ff_check(const uint8_t *frame, size_t len, const struct ff_policy *policy);

/* Builds the frame that tells the guest a refused frame was refused: a RST for a TCP SYN, an ICMP
 * destination unreachable (administratively prohibited, from the gateway) for other IPv4. Returns
 * its length, or 0 when nothing is owed (a dropped class, an ICMP error or RST, a later fragment).
 * out must hold FF_REPLY_MAX bytes. */
#define FF_REPLY_MAX (14 + 20 + 8 + 20 + 8)
size_t ff_reply(const uint8_t *frame, size_t len, enum ff_class why, uint8_t *out);

const char *ff_class_name(enum ff_class why);

#endif
