/* IDENTIFY: gives a booted or restored VM its own identity (kernel entropy,
 * hostname, /etc/machine-id) and, optionally, mounts the workspace disk. */
#ifndef PYRO_IDENTITY_H
#define PYRO_IDENTITY_H

#include <stddef.h>

#include "sysmsg.h"

#define WORKSPACE_DIR "/workspace"

/* Applies a decoded (hence validated) IDENTIFY. 0, or -1 with *code and msg set. */
int identity_apply(const struct msg_identify *m, const char **code, char *msg, size_t cap);

#endif
