#include "freeze.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "log.h"
#include "sysmsg.h"
#include "util.h"

/* <linux/fs.h> is not part of the musl toolchain. */
#define FIFREEZE _IOWR('X', 119, int)
#define FITHAW _IOWR('X', 120, int)

static int frozen_fd = -1;
static int64_t thaw_at;

int ws_freeze(const char *path, uint32_t timeout_ms, const char **code, char *msg, size_t cap)
{
	if (timeout_ms > FREEZE_MAX_MS)
		timeout_ms = FREEZE_MAX_MS;
	if (frozen_fd >= 0) {
		thaw_at = now_ms() + timeout_ms;
		return 0;
	}
	int mounted = path_is_mount_point(path);
	if (mounted <= 0) {
		*code = mounted < 0 ? "FREEZE_FAILED" : "NOT_A_MOUNT";
		snprintf(msg, cap, mounted < 0 ? "%s: %s" : "%s is not a mount point", path, strerror(errno));
		return -1;
	}
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, FIFREEZE, 0) < 0) {
		*code = "FREEZE_FAILED";
		snprintf(msg, cap, "freeze %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	frozen_fd = fd;
	thaw_at = now_ms() + timeout_ms;
	return 0;
}

void ws_thaw(void)
{
	if (frozen_fd < 0)
		return;
	if (ioctl(frozen_fd, FITHAW, 0) < 0)
		agent_log("thaw: %s", strerror(errno));
	close(frozen_fd);
	frozen_fd = -1;
}

int ws_frozen(void)
{
	return frozen_fd >= 0;
}

int64_t ws_tick(int64_t now)
{
	if (frozen_fd < 0)
		return -1;
	if (now < thaw_at)
		return thaw_at;
	agent_log("workspace frozen too long: thawing it");
	ws_thaw();
	return -1;
}
