#include "util.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0)
		;
}

int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

int path_is_mount_point(const char *path)
{
	char parent[4200];
	struct stat st, up;
	snprintf(parent, sizeof(parent), "%s/..", path);
	if (stat(path, &st) < 0 || stat(parent, &up) < 0)
		return -1;
	/* Another device, or the same inode as its parent (the root itself). */
	return st.st_dev != up.st_dev || st.st_ino == up.st_ino;
}
