/* Running commands: spawning, forwarding their pipes as frames, stdin queues,
 * timeouts, and turning wait statuses into EXIT frames. */
#ifndef PYRO_EXEC_H
#define PYRO_EXEC_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "frame.h"

#define MAX_CMDS 64
#define STDIN_QUEUE_MAX (1u << 20)
#define DRAIN_MS 500

struct cmd;

struct cmd *cmd_find(uint32_t stream);
int cmd_count(void);

/* Starts a command on stream. On failure returns NULL with *code/msg set
 * (CWD_NOT_FOUND, SPAWN_FAILED); STARTED is left to the caller. devnull_fd is
 * the agent's /dev/null (or -1). */
struct cmd *cmd_start(uint32_t stream, const struct msg_exec *m, const char *cwd, int devnull_fd,
		      const char **code, char *msg, size_t msgcap);
pid_t cmd_pid(const struct cmd *c);

void cmd_stdin(struct cmd *c, const uint8_t *p, size_t n, int end);
void cmd_signal(struct cmd *c, int signo);
/* Sets a terminal's window size (the kernel sends SIGWINCH); no-op without one. */
void cmd_resize(struct cmd *c, uint32_t cols, uint32_t rows);
/* Bytes queued for all commands' stdin; the caller stops reading the channel above the cap. */
size_t cmd_stdin_backlog(void);

/* Adds each command's pipe fds to pfd (from index at) and returns the new count.
 * Without output, stdout and stderr are left unread (quiesced): only stdin is fed. */
int cmd_pollfds(struct pollfd *pfd, int at, int cap, int output);
/* Handles the revents of the fds added by cmd_pollfds; n = total pollfds. */
void cmd_pollevents(const struct pollfd *pfd, int n);

/* A child was reaped: matches it to its command. */
void cmd_reaped(pid_t pid, int status);
/* Enforces timeouts and drain deadlines, sends EXIT for finished commands;
 * returns the next deadline in ms (monotonic) or -1. While quiet (quiesced) it
 * still enforces timeouts but holds every EXIT back. */
int64_t cmd_tick(int64_t now, int quiet);
/* After a quiet spell: finished commands get a fresh drain period for the output
 * left in their pipes, so their EXIT still follows all of it. */
void cmd_resumed(int64_t now);
/* SIGKILLs every command's group and forgets them without sending EXIT. */
void cmd_kill_all(void);

#endif
