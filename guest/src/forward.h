/* Forwarded TCP connections: CONNECT opens a socket to 127.0.0.1:port, STDIN
 * feeds it, what it sends goes out as STDOUT, CLOSED ends the stream. */
#ifndef PYRO_FORWARD_H
#define PYRO_FORWARD_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#define MAX_CONNS 64
/* Bytes a connection may send the host before the host acknowledges them (ACK): a client
 * that reads slowly holds up its own connection, never the channel. */
#define FWD_WINDOW (256u * 1024u)

struct conn;

struct conn *fwd_find(uint32_t stream);
int fwd_count(void);

/* Starts a non-blocking connect on stream and answers CONNECTED, or ERROR
 * CONNECT_FAILED, itself (now or once the connect completes). The caller has
 * checked the stream, the port and the cap. */
void fwd_connect(uint32_t stream, uint16_t port);

/* STDIN for a connection: end = half-close once the queued bytes are written. */
void fwd_stdin(struct conn *c, const uint8_t *p, size_t n, int end);
/* ACK: the host delivered this many more of the connection's bytes. */
void fwd_ack(struct conn *c, uint32_t bytes);
/* SIGNAL: resets the connection at once and sends CLOSED. */
void fwd_abort(struct conn *c);
/* Bytes queued towards all sockets; counts in the agent's stdin backlog. */
size_t fwd_backlog(void);

/* One pollfd per connection from index at; returns the new count. Quiet (quiesced):
 * no connection is polled at all, so nothing is read and no CONNECTED or CLOSED goes out. */
int fwd_pollfds(struct pollfd *pfd, int at, int cap, int quiet);
/* Handles the revents of the fds added by fwd_pollfds; n = total pollfds. */
void fwd_pollevents(const struct pollfd *pfd, int n);

/* Closes every connection without sending anything (disconnect, new session, shutdown). */
void fwd_kill_all(void);

#endif
