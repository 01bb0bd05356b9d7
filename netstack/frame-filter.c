/* The egress frame filter (see frame-filter.h). Work per frame is constant, plus one pass over the
 * host's addresses (at most FF_MAX_HOST_ADDRS). */
#include "frame-filter.h"

#include <string.h>

#define ETH_HLEN 14
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP 0x0806
#define ARP_LEN 28
#define IP_HLEN 20 /* IP options are refused: the header is always 20 bytes */
#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_UDP 17
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

#define ADDR(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define VNET ADDR(10, 0, 2, 0)
#define GATEWAY ADDR(10, 0, 2, 2)
#define DNS ADDR(10, 0, 2, 3)

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint32_t sum16(uint32_t sum, const uint8_t *p, size_t len)
{
	for (; len > 1; p += 2, len -= 2)
		sum += get16(p);
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static bool in_net(uint32_t addr, uint32_t net, int prefix)
{
	return (addr >> (32 - prefix)) == (net >> (32 - prefix));
}

/* The L4 bytes the filter reads must be in the first fragment (no tiny-fragment games). */
static size_t l4_min(uint8_t proto)
{
	return proto == PROTO_TCP ? 20 : (proto == PROTO_UDP || proto == PROTO_ICMP) ? 8 : 0;
}

/* What the destination address alone says, for addresses that are not the gateway or DNS alias. */
static enum ff_class destination(uint32_t dst, const struct ff_policy *policy)
{
	if (in_net(dst, ADDR(127, 0, 0, 0), 8))
		return FF_LOOPBACK;
	if (in_net(dst, 0, 8))
		return FF_THIS_NETWORK;
	if (in_net(dst, ADDR(169, 254, 0, 0), 16))
		return FF_LINK_LOCAL;
	if (in_net(dst, ADDR(224, 0, 0, 0), 4))
		return FF_MULTICAST;
	if (in_net(dst, ADDR(240, 0, 0, 0), 4))
		return FF_RESERVED;
	if (in_net(dst, VNET, 24))
		return FF_VIRTUAL_NET;
	for (size_t i = 0; i < policy->n_host && i < FF_MAX_HOST_ADDRS; i++)
		if (policy->host[i] == dst)
			return FF_HOST_ADDRESS;
	if (!policy->allow_private &&
	    (in_net(dst, ADDR(10, 0, 0, 0), 8) || in_net(dst, ADDR(172, 16, 0, 0), 12) ||
	     in_net(dst, ADDR(192, 168, 0, 0), 16) || in_net(dst, ADDR(100, 64, 0, 0), 10)))
		return FF_PRIVATE;
	return FF_PASS;
}

enum ff_class ff_check(const uint8_t *frame, size_t len, const struct ff_policy *policy)
{
	if (len < ETH_HLEN)
		return FF_MALFORMED;
	uint16_t type = get16(frame + 12);
	if (type == ETHERTYPE_ARP)
		return len >= ETH_HLEN + ARP_LEN ? FF_PASS : FF_MALFORMED;
	if (type != ETHERTYPE_IPV4)
		return FF_NOT_IPV4;

	const uint8_t *ip = frame + ETH_HLEN;
	size_t avail = len - ETH_HLEN;
	if (avail < IP_HLEN || ip[0] != 0x45)
		return FF_MALFORMED; /* not version 4, or options */
	size_t total = get16(ip + 2);
	uint16_t frag = get16(ip + 6);
	if (total < IP_HLEN || total > avail || (frag & 0x8000) || fold(sum16(0, ip, IP_HLEN)) != 0)
		return FF_MALFORMED;
	bool fragmented = (frag & 0x3fff) != 0;
	bool first = (frag & 0x1fff) == 0;
	uint8_t proto = ip[9];
	const uint8_t *l4 = ip + IP_HLEN;
	size_t l4_len = total - IP_HLEN;
	if (first && l4_len < l4_min(proto))
		return FF_MALFORMED;
	if (first && proto == PROTO_TCP && ((l4[12] >> 4) < 5 || (size_t)(l4[12] >> 4) * 4 > l4_len))
		return FF_MALFORMED;

	uint32_t src = get32(ip + 12), dst = get32(ip + 16);
	if (!in_net(src, VNET, 24) || src == VNET || src == GATEWAY || src == DNS || src == (VNET | 0xff))
		return FF_SPOOFED;
	if (dst == DNS)
		return !fragmented && (proto == PROTO_UDP || proto == PROTO_TCP) && get16(l4 + 2) == 53 ? FF_PASS
													  : FF_DNS;
	if (dst == GATEWAY)
		return !fragmented && proto == PROTO_ICMP && l4[0] == 8 ? FF_PASS : FF_GATEWAY;
	return destination(dst, policy);
}

static size_t ip_header(uint8_t *ip, uint8_t proto, uint32_t src, uint32_t dst, size_t total)
{
	memset(ip, 0, IP_HLEN);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)total);
	put16(ip + 6, 0x4000); /* DF */
	ip[8] = 64;
	ip[9] = proto;
	put32(ip + 12, src);
	put32(ip + 16, dst);
	put16(ip + 10, fold(sum16(0, ip, IP_HLEN)));
	return IP_HLEN;
}

/* RST|ACK for a SYN, as a closed port answers (RFC 9293 3.10.7.1). */
static size_t tcp_reset(const uint8_t *ip, size_t total, uint8_t *out)
{
	const uint8_t *tcp = ip + IP_HLEN;
	size_t payload = total - IP_HLEN - (size_t)(tcp[12] >> 4) * 4;
	uint32_t src = get32(ip + 16), dst = get32(ip + 12);
	uint8_t *rip = out + ETH_HLEN, *rtcp = rip + IP_HLEN;
	ip_header(rip, PROTO_TCP, src, dst, IP_HLEN + 20);
	memset(rtcp, 0, 20);
	memcpy(rtcp, tcp + 2, 2);
	memcpy(rtcp + 2, tcp, 2);
	put32(rtcp + 8, get32(tcp + 4) + 1 + (uint32_t)payload);
	rtcp[12] = 5 << 4;
	rtcp[13] = TCP_RST | TCP_ACK;
	uint32_t pseudo = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + PROTO_TCP + 20;
	put16(rtcp + 16, fold(sum16(pseudo, rtcp, 20)));
	return ETH_HLEN + IP_HLEN + 20;
}

/* ICMP type 3 code 13 from the gateway, quoting the IP header and 8 bytes as RFC 792 asks. */
static size_t icmp_prohibited(const uint8_t *ip, size_t total, uint8_t *out)
{
	size_t quoted = IP_HLEN + (total - IP_HLEN < 8 ? total - IP_HLEN : 8);
	uint8_t *rip = out + ETH_HLEN, *icmp = rip + IP_HLEN;
	ip_header(rip, PROTO_ICMP, GATEWAY, get32(ip + 12), IP_HLEN + 8 + quoted);
	memset(icmp, 0, 8);
	icmp[0] = 3;
	icmp[1] = 13;
	memcpy(icmp + 8, ip, quoted);
	put16(icmp + 2, fold(sum16(0, icmp, 8 + quoted)));
	return ETH_HLEN + IP_HLEN + 8 + quoted;
}

size_t ff_reply(const uint8_t *frame, size_t len, enum ff_class why, uint8_t *out)
{
	if (why < FF_LOOPBACK || why >= FF_CLASSES || len < ETH_HLEN + IP_HLEN)
		return 0; /* passed, or dropped without a word */
	const uint8_t *ip = frame + ETH_HLEN;
	size_t total = get16(ip + 2);
	if ((get16(ip + 6) & 0x1fff) != 0)
		return 0; /* only the first fragment is answered */
	uint8_t proto = ip[9];
	const uint8_t *l4 = ip + IP_HLEN;
	if (proto == PROTO_ICMP && l4[0] != 8 && l4[0] != 13 && l4[0] != 15 && l4[0] != 17)
		return 0; /* never an error about an error (only queries are answered) */
	if (proto == PROTO_TCP && (l4[13] & TCP_RST))
		return 0;
	memcpy(out, frame + 6, 6); /* back to the sender, from whom it was addressed to */
	memcpy(out + 6, frame, 6);
	put16(out + 12, ETHERTYPE_IPV4);
	if (proto == PROTO_TCP && (l4[13] & (TCP_SYN | TCP_ACK)) == TCP_SYN)
		return tcp_reset(ip, total, out);
	return icmp_prohibited(ip, total, out);
}

const char *ff_class_name(enum ff_class why)
{
	static const char *const names[FF_CLASSES] = {
		[FF_PASS] = "passed",
		[FF_NOT_IPV4] = "not IPv4 or ARP (IPv6, VLAN, other)",
		[FF_MALFORMED] = "malformed",
		[FF_SPOOFED] = "spoofed source",
		[FF_LOOPBACK] = "loopback 127/8",
		[FF_THIS_NETWORK] = "0.0.0.0/8",
		[FF_LINK_LOCAL] = "link-local 169.254/16",
		[FF_MULTICAST] = "multicast",
		[FF_RESERVED] = "reserved 240/4 or broadcast",
		[FF_VIRTUAL_NET] = "virtual network 10.0.2.0/24",
		[FF_GATEWAY] = "gateway 10.0.2.2 (only ping is served)",
		[FF_DNS] = "DNS alias 10.0.2.3 (only port 53 is served)",
		[FF_HOST_ADDRESS] = "an address of the host",
		[FF_PRIVATE] = "private range (no --allow-private-egress)",
	};
	return why < FF_CLASSES ? names[why] : "unknown";
}
