/* Small helpers shared by the agent's modules. */
#ifndef PYRO_UTIL_H
#define PYRO_UTIL_H

#include <stdint.h>

int64_t now_ms(void);
void sleep_ms(int ms);
int set_nonblock(int fd);

#endif
