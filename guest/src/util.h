/* Small helpers shared by the agent's modules. */
#ifndef PYRO_UTIL_H
#define PYRO_UTIL_H

#include <stdint.h>

int64_t now_ms(void);
void sleep_ms(int ms);
int set_nonblock(int fd);
/* 1 if path is the root of a mounted filesystem, 0 if not, -1 (errno) if it cannot be checked. */
int path_is_mount_point(const char *path);

#endif
