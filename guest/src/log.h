/* Progress and error lines ("pyro-agent: ...") to the serial console (guest)
 * or stderr (host). */
#ifndef PYRO_LOG_H
#define PYRO_LOG_H

void log_set_fd(int fd);
void agent_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
