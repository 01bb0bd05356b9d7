/* Codecs of the session-control messages (sysmsg.h). */
#include "sysmsg.h"

#include <string.h>

static int is_lower_alnum(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* RFC 1123 label: 1..63 of [A-Za-z0-9-], not starting or ending with '-'. */
static int valid_hostname(struct bytes v)
{
	if (v.n == 0 || v.n > HOSTNAME_MAX || v.p[0] == '-' || v.p[v.n - 1] == '-')
		return 0;
	for (uint32_t i = 0; i < v.n; i++) {
		uint8_t c = v.p[i];
		if (!is_lower_alnum(c) && !(c >= 'A' && c <= 'Z') && c != '-')
			return 0;
	}
	return 1;
}

static int valid_machine_id(struct bytes v)
{
	if (v.n != MACHINE_ID_LEN)
		return 0;
	for (uint32_t i = 0; i < v.n; i++)
		if (!((v.p[i] >= '0' && v.p[i] <= '9') || (v.p[i] >= 'a' && v.p[i] <= 'f')))
			return 0;
	return 1;
}

/* "/dev/" and a plain name: letters, digits, '_' and '-', no further '/', no dots. */
static int valid_device(struct bytes v)
{
	if (v.n <= 5 || v.n > 5 + DEVICE_NAME_MAX || memcmp(v.p, "/dev/", 5) != 0)
		return 0;
	for (uint32_t i = 5; i < v.n; i++) {
		uint8_t c = v.p[i];
		if (!is_lower_alnum(c) && !(c >= 'A' && c <= 'Z') && c != '_' && c != '-')
			return 0;
	}
	return 1;
}

int msg_decode_identify(const uint8_t *b, size_t n, struct msg_identify *m, const char **err)
{
	struct tlv_reader r;
	uint8_t tag;
	struct bytes v;
	int rc;
	unsigned seen = 0;
	memset(m, 0, sizeof(*m));
	tlv_init(&r, b, n);
	while ((rc = tlv_next(&r, &tag, &v, err)) == 1) {
		if (tag < TAG_HOSTNAME || tag > TAG_WORKSPACE_DEVICE)
			continue; /* unknown tags are skipped, as everywhere */
		if (seen & (1u << tag)) {
			*err = "IDENTIFY repeats a field";
			return -1;
		}
		seen |= 1u << tag;
		switch (tag) {
		case TAG_HOSTNAME:
			if (!valid_hostname(v)) {
				*err = "hostname must be 1-63 letters, digits or '-', not starting or ending with '-'";
				return -1;
			}
			m->hostname = v;
			break;
		case TAG_MACHINE_ID:
			if (!valid_machine_id(v)) {
				*err = "machine_id must be 32 lowercase hex digits";
				return -1;
			}
			m->machine_id = v;
			break;
		case TAG_ENTROPY:
			if (v.n < ENTROPY_MIN || v.n > ENTROPY_MAX) {
				*err = "entropy must be 32 to 256 bytes";
				return -1;
			}
			m->entropy = v;
			break;
		case TAG_WORKSPACE_DEVICE:
			if (!valid_device(v)) {
				*err = "workspace_device must be /dev/NAME (letters, digits, '_', '-'; at most 32)";
				return -1;
			}
			m->has_workspace_device = 1;
			m->workspace_device = v;
			break;
		}
	}
	if (rc < 0)
		return -1;
	unsigned need = 1u << TAG_HOSTNAME | 1u << TAG_MACHINE_ID | 1u << TAG_ENTROPY;
	if ((seen & need) != need) {
		*err = !(seen & 1u << TAG_HOSTNAME)     ? "missing field hostname"
		       : !(seen & 1u << TAG_MACHINE_ID) ? "missing field machine_id"
							: "missing field entropy";
		return -1;
	}
	return 0;
}

long msg_encode_identify(uint8_t *out, size_t cap, const struct msg_identify *m)
{
	struct tlv_writer w;
	tlv_writer_init(&w, out, cap);
	tlv_put_bytes(&w, TAG_HOSTNAME, m->hostname);
	tlv_put_bytes(&w, TAG_MACHINE_ID, m->machine_id);
	tlv_put_bytes(&w, TAG_ENTROPY, m->entropy);
	if (m->has_workspace_device)
		tlv_put_bytes(&w, TAG_WORKSPACE_DEVICE, m->workspace_device);
	return tlv_end(&w);
}

int msg_decode_freeze(const uint8_t *b, size_t n, uint32_t *timeout_ms, const char **err)
{
	struct tlv_reader r;
	uint8_t tag;
	struct bytes v;
	int rc, seen = 0;
	tlv_init(&r, b, n);
	while ((rc = tlv_next(&r, &tag, &v, err)) == 1) {
		if (tag != TAG_TIMEOUT_MS)
			continue;
		if (seen++) {
			*err = "FREEZE repeats timeout_ms";
			return -1;
		}
		if (want_u32(v, timeout_ms, err) < 0)
			return -1;
	}
	if (rc < 0)
		return -1;
	if (!seen) {
		*err = "missing field timeout_ms";
		return -1;
	}
	if (*timeout_ms == 0) {
		*err = "timeout_ms must be at least 1";
		return -1;
	}
	return 0;
}
