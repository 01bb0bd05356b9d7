/* Writing frames to the host. Writes are complete or the channel is marked
 * lost; blocking here is the protocol's backpressure. Frames are batched until
 * chan_flush (see channel.c). */
#ifndef PYRO_CHANNEL_H
#define PYRO_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"

struct channel {
	int rfd, wfd;
	int lost; /* a write failed or the peer hung up: no more writes until reset */
};

extern struct channel chan;

/* Shared output buffer; callers may fill body at chan_out + HEADER_SIZE and call chan_send_out. */
extern uint8_t chan_out[HEADER_SIZE + MAX_BODY];

/* Frames are queued; chan_flush writes them (the event loop calls it before it sleeps). */
int chan_send_out(uint32_t stream, uint8_t type, uint8_t flags, size_t len);
int chan_flush(void);
int chan_send(uint32_t stream, uint8_t type, uint8_t flags, const void *body, size_t len);
int chan_send_error(uint32_t stream, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
