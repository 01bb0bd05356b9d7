/* Unit tests of the egress frame filter: make -C netstack test (built with ASan and UBSan). */
#include "frame-filter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(cond)                                                                   \
	do {                                                                          \
		if (!(cond)) {                                                        \
			fprintf(stderr, "%s:%d: %s failed\n", __FILE__, __LINE__, #cond); \
			failures++;                                                   \
		}                                                                     \
	} while (0)

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define GUEST IP(10, 0, 2, 15)
#define LAB IP(198, 51, 100, 7)

static const uint8_t GUEST_MAC[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };
static const uint8_t GATEWAY_MAC[6] = { 0x52, 0x55, 10, 0, 2, 2 };

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

static uint32_t sum(uint32_t s, const uint8_t *p, size_t len)
{
	for (; len > 1; p += 2, len -= 2)
		s += get16(p);
	if (len)
		s += (uint32_t)p[0] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static uint32_t pseudo(const uint8_t *ip, uint8_t proto, size_t l4_len)
{
	uint32_t src = get32(ip + 12), dst = get32(ip + 16);
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + (uint32_t)l4_len;
}

struct frame {
	uint8_t b[2048];
	size_t len;
};

/* An Ethernet + IPv4 frame from the guest to the gateway's MAC with an l4_len-byte payload. */
static struct frame ipv4(uint32_t src, uint32_t dst, uint8_t proto, size_t l4_len)
{
	struct frame f = { .len = 14 + 20 + l4_len };
	memcpy(f.b, GATEWAY_MAC, 6);
	memcpy(f.b + 6, GUEST_MAC, 6);
	put16(f.b + 12, 0x0800);
	uint8_t *ip = f.b + 14;
	ip[0] = 0x45;
	put16(ip + 2, 20 + (uint32_t)l4_len);
	put16(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = proto;
	put32(ip + 12, src);
	put32(ip + 16, dst);
	put16(ip + 10, fold(sum(0, ip, 20)));
	return f;
}

static void reseal(struct frame *f)
{
	uint8_t *ip = f->b + 14;
	put16(ip + 10, 0);
	put16(ip + 10, fold(sum(0, ip, 20)));
}

static struct frame tcp(uint32_t dst, uint16_t port, uint8_t flags, size_t payload)
{
	struct frame f = ipv4(GUEST, dst, 6, 20 + payload);
	uint8_t *t = f.b + 34;
	put16(t, 40000);
	put16(t + 2, port);
	put32(t + 4, 1000);
	t[12] = 5 << 4;
	t[13] = flags;
	return f;
}

static struct frame udp(uint32_t dst, uint16_t port)
{
	struct frame f = ipv4(GUEST, dst, 17, 8 + 4);
	put16(f.b + 34, 40000);
	put16(f.b + 36, port);
	put16(f.b + 38, 12);
	return f;
}

static struct frame icmp(uint32_t dst, uint8_t type)
{
	struct frame f = ipv4(GUEST, dst, 1, 8);
	f.b[34] = type;
	return f;
}

static struct frame ethertype(uint16_t type, size_t len)
{
	struct frame f = { .len = len };
	memcpy(f.b, GATEWAY_MAC, 6);
	memcpy(f.b + 6, GUEST_MAC, 6);
	put16(f.b + 12, type);
	return f;
}

static struct ff_policy policy(bool allow_private)
{
	struct ff_policy p = { .allow_private = allow_private, .n_host = 2 };
	p.host[0] = IP(198, 51, 100, 1);
	p.host[1] = IP(192, 168, 7, 7);
	return p;
}

static enum ff_class check(struct frame f, bool allow_private)
{
	struct ff_policy p = policy(allow_private);
	return ff_check(f.b, f.len, &p);
}

static void test_ethertypes(void)
{
	CHECK(check(ethertype(0x0806, 14 + 28), false) == FF_PASS);
	CHECK(check(ethertype(0x0806, 14 + 27), false) == FF_MALFORMED);
	CHECK(check(ethertype(0x86dd, 14 + 40), false) == FF_NOT_IPV4);
	CHECK(check(ethertype(0x8100, 64), false) == FF_NOT_IPV4);
	CHECK(check(ethertype(0x88a8, 64), false) == FF_NOT_IPV4);
	CHECK(check(ethertype(0x88cc, 64), false) == FF_NOT_IPV4);
	CHECK(check(ethertype(0x0800, 13), false) == FF_MALFORMED);
	struct ff_policy p = policy(false);
	CHECK(ff_check((const uint8_t *)"", 0, &p) == FF_MALFORMED);
}

static void test_malformed(void)
{
	CHECK(check(tcp(LAB, 80, 0x02, 0), false) == FF_PASS);
	struct frame f = tcp(LAB, 80, 0x02, 0);
	f.b[24] ^= 1; /* checksum */
	CHECK(check(f, false) == FF_MALFORMED);
	f = tcp(LAB, 80, 0x02, 0);
	f.b[14] = 0x46; /* options */
	reseal(&f);
	CHECK(check(f, false) == FF_MALFORMED);
	f = tcp(LAB, 80, 0x02, 0);
	f.b[14] = 0x65; /* version 6 behind an IPv4 ethertype */
	reseal(&f);
	CHECK(check(f, false) == FF_MALFORMED);
	f = tcp(LAB, 80, 0x02, 0);
	f.len -= 1; /* total length beyond the frame */
	CHECK(check(f, false) == FF_MALFORMED);
	f = tcp(LAB, 80, 0x02, 0);
	put16(f.b + 16, 19);
	reseal(&f);
	CHECK(check(f, false) == FF_MALFORMED);
	f = tcp(LAB, 80, 0x02, 0);
	put16(f.b + 20, 0x8000); /* the reserved flag */
	reseal(&f);
	CHECK(check(f, false) == FF_MALFORMED);
	f = tcp(LAB, 80, 0x02, 0);
	f.b[34 + 12] = 4 << 4; /* TCP data offset below its header */
	CHECK(check(f, false) == FF_MALFORMED);
	f = tcp(LAB, 80, 0x02, 0);
	f.b[34 + 12] = 6 << 4; /* TCP header beyond the packet */
	CHECK(check(f, false) == FF_MALFORMED);
	f = ipv4(GUEST, LAB, 6, 8); /* a first fragment too short for the TCP header */
	put16(f.b + 20, 0x2000);
	reseal(&f);
	CHECK(check(f, false) == FF_MALFORMED);
	f = ipv4(GUEST, LAB, 17, 7);
	CHECK(check(f, false) == FF_MALFORMED);
	/* A longer frame than the IP packet (Ethernet padding) is fine. */
	f = udp(LAB, 9);
	f.len += 10;
	CHECK(check(f, false) == FF_PASS);
	/* Another IP protocol needs no L4 header. */
	CHECK(check(ipv4(GUEST, LAB, 47, 0), false) == FF_PASS);
}

static void test_sources(void)
{
	CHECK(check(ipv4(IP(127, 0, 0, 1), LAB, 17, 8), false) == FF_SPOOFED);
	CHECK(check(ipv4(IP(10, 0, 2, 2), LAB, 17, 8), false) == FF_SPOOFED);
	CHECK(check(ipv4(IP(10, 0, 2, 3), LAB, 17, 8), false) == FF_SPOOFED);
	CHECK(check(ipv4(IP(10, 0, 2, 255), LAB, 17, 8), false) == FF_SPOOFED);
	CHECK(check(ipv4(0, LAB, 17, 8), false) == FF_SPOOFED);
	CHECK(check(ipv4(IP(10, 0, 2, 99), LAB, 17, 8), false) == FF_PASS);
}

static void test_destinations(void)
{
	static const struct {
		uint32_t dst;
		enum ff_class why;
		enum ff_class why_allowing_private;
	} cases[] = {
		{ LAB, FF_PASS, FF_PASS },
		{ IP(1, 1, 1, 1), FF_PASS, FF_PASS },
		{ IP(127, 0, 0, 1), FF_LOOPBACK, FF_LOOPBACK },
		{ IP(127, 1, 2, 3), FF_LOOPBACK, FF_LOOPBACK },
		{ IP(127, 255, 255, 255), FF_LOOPBACK, FF_LOOPBACK },
		{ IP(0, 0, 0, 0), FF_THIS_NETWORK, FF_THIS_NETWORK },
		{ IP(0, 1, 2, 3), FF_THIS_NETWORK, FF_THIS_NETWORK },
		{ IP(169, 254, 169, 254), FF_LINK_LOCAL, FF_LINK_LOCAL },
		{ IP(169, 254, 0, 1), FF_LINK_LOCAL, FF_LINK_LOCAL },
		{ IP(169, 253, 0, 1), FF_PASS, FF_PASS },
		{ IP(224, 0, 0, 1), FF_MULTICAST, FF_MULTICAST },
		{ IP(239, 255, 255, 250), FF_MULTICAST, FF_MULTICAST },
		{ IP(240, 0, 0, 1), FF_RESERVED, FF_RESERVED },
		{ IP(255, 255, 255, 255), FF_RESERVED, FF_RESERVED },
		{ IP(10, 0, 2, 0), FF_VIRTUAL_NET, FF_VIRTUAL_NET },
		{ IP(10, 0, 2, 1), FF_VIRTUAL_NET, FF_VIRTUAL_NET },
		{ IP(10, 0, 2, 15), FF_VIRTUAL_NET, FF_VIRTUAL_NET },
		{ IP(10, 0, 2, 255), FF_VIRTUAL_NET, FF_VIRTUAL_NET },
		{ IP(198, 51, 100, 1), FF_HOST_ADDRESS, FF_HOST_ADDRESS },
		{ IP(192, 168, 7, 7), FF_HOST_ADDRESS, FF_HOST_ADDRESS },
		{ IP(10, 1, 2, 3), FF_PRIVATE, FF_PASS },
		{ IP(10, 255, 255, 255), FF_PRIVATE, FF_PASS },
		{ IP(11, 0, 0, 1), FF_PASS, FF_PASS },
		{ IP(172, 16, 0, 1), FF_PRIVATE, FF_PASS },
		{ IP(172, 31, 255, 255), FF_PRIVATE, FF_PASS },
		{ IP(172, 15, 255, 255), FF_PASS, FF_PASS },
		{ IP(172, 32, 0, 0), FF_PASS, FF_PASS },
		{ IP(192, 168, 1, 1), FF_PRIVATE, FF_PASS },
		{ IP(192, 169, 0, 1), FF_PASS, FF_PASS },
		{ IP(100, 64, 0, 1), FF_PRIVATE, FF_PASS },
		{ IP(100, 127, 255, 255), FF_PRIVATE, FF_PASS },
		{ IP(100, 63, 255, 255), FF_PASS, FF_PASS },
		{ IP(100, 128, 0, 0), FF_PASS, FF_PASS },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct frame frames[] = { tcp(cases[i].dst, 80, 0x02, 0), udp(cases[i].dst, 53), icmp(cases[i].dst, 8),
					  ipv4(GUEST, cases[i].dst, 47, 0) };
		for (size_t j = 0; j < 4; j++) {
			enum ff_class got = check(frames[j], false), got_private = check(frames[j], true);
			if (got != cases[i].why || got_private != cases[i].why_allowing_private) {
				fprintf(stderr, "case %zu frame %zu: got %s / %s\n", i, j, ff_class_name(got),
					ff_class_name(got_private));
				failures++;
			}
		}
	}
	/* Non-first fragments carry the destination too. */
	struct frame f = ipv4(GUEST, IP(127, 0, 0, 1), 17, 16);
	put16(f.b + 20, 2);
	reseal(&f);
	CHECK(check(f, false) == FF_LOOPBACK);
	f = ipv4(GUEST, LAB, 17, 16);
	put16(f.b + 20, 2);
	reseal(&f);
	CHECK(check(f, false) == FF_PASS);
}

static void test_aliases(void)
{
	uint32_t dns = IP(10, 0, 2, 3), gateway = IP(10, 0, 2, 2);
	CHECK(check(udp(dns, 53), false) == FF_PASS);
	CHECK(check(tcp(dns, 53, 0x02, 0), false) == FF_PASS);
	CHECK(check(udp(dns, 54), false) == FF_DNS);
	CHECK(check(tcp(dns, 22, 0x02, 0), false) == FF_DNS);
	CHECK(check(icmp(dns, 8), false) == FF_DNS);
	CHECK(check(ipv4(GUEST, dns, 47, 0), false) == FF_DNS);
	struct frame f = udp(dns, 53);
	put16(f.b + 20, 0x2000); /* a fragmented query: the port of later pieces cannot be seen */
	reseal(&f);
	CHECK(check(f, false) == FF_DNS);

	CHECK(check(icmp(gateway, 8), false) == FF_PASS);
	CHECK(check(icmp(gateway, 13), false) == FF_GATEWAY);
	CHECK(check(tcp(gateway, 80, 0x02, 0), false) == FF_GATEWAY);
	CHECK(check(tcp(gateway, 80, 0x10, 0), false) == FF_GATEWAY);
	CHECK(check(udp(gateway, 53), false) == FF_GATEWAY);
	f = icmp(gateway, 8);
	put16(f.b + 20, 0x2000);
	reseal(&f);
	CHECK(check(f, false) == FF_GATEWAY);
}

static bool ip_checksum_ok(const uint8_t *ip)
{
	return fold(sum(0, ip, 20)) == 0;
}

static void test_reset(void)
{
	uint8_t out[FF_REPLY_MAX];
	struct frame f = tcp(IP(127, 0, 0, 1), 5000, 0x02, 10);
	size_t n = ff_reply(f.b, f.len, FF_LOOPBACK, out);
	CHECK(n == 14 + 20 + 20);
	CHECK(memcmp(out, GUEST_MAC, 6) == 0 && memcmp(out + 6, GATEWAY_MAC, 6) == 0);
	CHECK(get16(out + 12) == 0x0800);
	const uint8_t *ip = out + 14, *t = ip + 20;
	CHECK(ip_checksum_ok(ip));
	CHECK(get16(ip + 2) == 40 && ip[9] == 6);
	CHECK(get32(ip + 12) == IP(127, 0, 0, 1) && get32(ip + 16) == GUEST);
	CHECK(get16(t) == 5000 && get16(t + 2) == 40000);
	CHECK(get32(t + 4) == 0 && get32(t + 8) == 1000 + 1 + 10);
	CHECK(t[13] == 0x14); /* RST|ACK */
	CHECK(fold(sum(pseudo(ip, 6, 20), t, 20)) == 0);

	f = tcp(IP(127, 0, 0, 1), 5000, 0x04, 0); /* never answer a RST */
	CHECK(ff_reply(f.b, f.len, FF_LOOPBACK, out) == 0);
	f = tcp(IP(127, 0, 0, 1), 5000, 0x12, 0); /* a SYN|ACK gets the ICMP error */
	CHECK(ff_reply(f.b, f.len, FF_LOOPBACK, out) == 14 + 20 + 8 + 28);
}

static void test_icmp_error(void)
{
	uint8_t out[FF_REPLY_MAX];
	struct frame f = udp(IP(169, 254, 169, 254), 80);
	size_t n = ff_reply(f.b, f.len, FF_LINK_LOCAL, out);
	CHECK(n == 14 + 20 + 8 + 28);
	const uint8_t *ip = out + 14, *m = ip + 20;
	CHECK(ip_checksum_ok(ip));
	CHECK(get16(ip + 2) == 20 + 8 + 28 && ip[9] == 1);
	CHECK(get32(ip + 12) == IP(10, 0, 2, 2) && get32(ip + 16) == GUEST);
	CHECK(m[0] == 3 && m[1] == 13);
	CHECK(fold(sum(0, m, 8 + 28)) == 0);
	CHECK(memcmp(m + 8, f.b + 14, 28) == 0);

	f = ipv4(GUEST, IP(10, 9, 9, 9), 47, 3); /* quotes what there is */
	CHECK(ff_reply(f.b, f.len, FF_PRIVATE, out) == 14 + 20 + 8 + 23);
	f = icmp(IP(127, 0, 0, 1), 8);
	CHECK(ff_reply(f.b, f.len, FF_LOOPBACK, out) > 0);
	f = icmp(IP(127, 0, 0, 1), 3); /* never an error about an error */
	CHECK(ff_reply(f.b, f.len, FF_LOOPBACK, out) == 0);
	f = icmp(IP(127, 0, 0, 1), 11);
	CHECK(ff_reply(f.b, f.len, FF_LOOPBACK, out) == 0);
	f = udp(IP(127, 0, 0, 1), 53);
	put16(f.b + 20, 3); /* a later fragment */
	reseal(&f);
	CHECK(ff_reply(f.b, f.len, FF_LOOPBACK, out) == 0);
	/* Dropped classes are not answered. */
	f = ethertype(0x86dd, 64);
	CHECK(ff_reply(f.b, f.len, FF_NOT_IPV4, out) == 0);
	f = udp(LAB, 53);
	CHECK(ff_reply(f.b, f.len, FF_MALFORMED, out) == 0);
	CHECK(ff_reply(f.b, f.len, FF_SPOOFED, out) == 0);
	CHECK(ff_reply(f.b, f.len, FF_PASS, out) == 0);
}

/* Mutated frames of every length: the sanitizers catch any read outside the frame. */
static void test_mutations(void)
{
	struct ff_policy p = policy(false);
	uint8_t out[FF_REPLY_MAX];
	srand(1);
	for (int i = 0; i < 300000; i++) {
		struct frame seeds[] = { tcp(IP(127, 0, 0, 1), 80, 0x02, 4), udp(IP(10, 0, 2, 3), 53),
					 icmp(IP(10, 0, 2, 2), 8), ethertype(0x0806, 42) };
		struct frame f = seeds[i % 4];
		for (int k = rand() % 4; k >= 0; k--)
			f.b[rand() % 60] = (uint8_t)rand();
		if (rand() % 2)
			reseal(&f);
		size_t len = (size_t)rand() % (f.len + 1);
		uint8_t *copy = malloc(len ? len : 1);
		memcpy(copy, f.b, len);
		enum ff_class why = ff_check(copy, len, &p);
		CHECK(why < FF_CLASSES);
		size_t n = ff_reply(copy, len, why, out);
		CHECK(n <= FF_REPLY_MAX);
		free(copy);
	}
}

int main(void)
{
	test_ethertypes();
	test_malformed();
	test_sources();
	test_destinations();
	test_aliases();
	test_reset();
	test_icmp_error();
	test_mutations();
	if (failures) {
		fprintf(stderr, "frame filter: %d failures\n", failures);
		return 1;
	}
	printf("frame filter: all tests passed\n");
	return 0;
}
