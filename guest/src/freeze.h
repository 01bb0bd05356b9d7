/* FREEZE/THAW of the /workspace filesystem (FIFREEZE/FITHAW) so the host can
 * snapshot its disk consistently. A freeze never outlives its timeout, the
 * host connection, a shutdown or a protocol error: a frozen filesystem blocks
 * every writer, so the agent thaws it itself. */
#ifndef PYRO_FREEZE_H
#define PYRO_FREEZE_H

#include <stddef.h>
#include <stdint.h>

/* Freezes path (a mount point) until now + timeout_ms (capped at FREEZE_MAX_MS); while frozen
 * a second call only moves the deadline. 0, or -1 with *code (NOT_A_MOUNT, FREEZE_FAILED) and msg. */
int ws_freeze(const char *path, uint32_t timeout_ms, const char **code, char *msg, size_t cap);
/* Thaws if frozen (no-op otherwise). */
void ws_thaw(void);
int ws_frozen(void);
/* Thaws once the deadline passed; returns the deadline still ahead (monotonic ms) or -1. */
int64_t ws_tick(int64_t now);

#endif
