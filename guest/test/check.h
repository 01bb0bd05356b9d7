#ifndef PYRO_TEST_CHECK_H
#define PYRO_TEST_CHECK_H

#include <stdio.h>

/* Counters shared by a test program's checks; the program prints "N passed, M failed". */
static int passed, failed;

#define CHECK(cond, ...)                                        \
	do {                                                    \
		if (cond) {                                     \
			passed++;                               \
		} else {                                        \
			failed++;                               \
			printf("FAIL %s:%d: ", __FILE__, __LINE__); \
			printf(__VA_ARGS__);                    \
			printf("\n");                           \
		}                                               \
	} while (0)

#endif
