/* Wire format of the session-control messages on stream 0: IDENTIFY (the VM's
 * identity after a boot or a restore) and FREEZE (how long /workspace may stay
 * frozen). QUIESCE, THAW and the replies have empty bodies. Pure,
 * bounds-checked, no I/O; every field is validated here, so the handlers only
 * see values that are safe to pass to the kernel. */
#ifndef PYRO_SYSMSG_H
#define PYRO_SYSMSG_H

#include "frame.h"

#define HOSTNAME_MAX 63u        /* one RFC 1123 label */
#define MACHINE_ID_LEN 32u      /* lowercase hex, as systemd writes it */
#define ENTROPY_MIN 32u
#define ENTROPY_MAX 256u
#define DEVICE_NAME_MAX 32u     /* the part after /dev/ */
#define FREEZE_MAX_MS 30000u    /* longest a freeze may last; longer asks are capped */

struct msg_identify {
	struct bytes hostname, machine_id, entropy;
	int has_workspace_device;
	struct bytes workspace_device;
};

/* Each field at most once; hostname, machine id and entropy required. */
int msg_decode_identify(const uint8_t *b, size_t n, struct msg_identify *m, const char **err);
long msg_encode_identify(uint8_t *out, size_t cap, const struct msg_identify *m);

/* FREEZE {TIMEOUT_MS}: exactly one timeout, 1 or more (the caller caps it at FREEZE_MAX_MS). */
int msg_decode_freeze(const uint8_t *b, size_t n, uint32_t *timeout_ms, const char **err);

#endif
