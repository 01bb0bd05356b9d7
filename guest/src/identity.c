/* IDENTIFY (identity.h). Two VMs restored from one memory image share the
 * kernel's random state, hostname and machine id until this runs; after it
 * they share none of them. */
#include "identity.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

/* <linux/random.h> is not part of the musl toolchain. */
#define RNDADDENTROPY _IOW('R', 0x03, int[2])
#define RNDRESEEDCRNG _IO('R', 0x07)

#define DEVICE_WAIT_MS 2000

static int fail(const char **code, const char *c, char *msg, size_t cap, const char *what)
{
	*code = c;
	snprintf(msg, cap, "%s: %s", what, strerror(errno));
	return -1;
}

/* Mixes the bytes in, credited as entropy, then makes the CRNG reseed from the
 * pool now rather than at its next scheduled reseed. */
static int add_entropy(struct bytes e, const char **code, char *msg, size_t cap)
{
	struct {
		int entropy_count, buf_size;
		uint8_t buf[ENTROPY_MAX];
	} info;
	info.entropy_count = (int)e.n * 8;
	info.buf_size = (int)e.n;
	memcpy(info.buf, e.p, e.n);
	int fd = open("/dev/urandom", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(code, "IDENTIFY_FAILED", msg, cap, "open /dev/urandom");
	int rc = ioctl(fd, RNDADDENTROPY, &info);
	if (rc < 0)
		fail(code, "IDENTIFY_FAILED", msg, cap, "add entropy");
	else if ((rc = ioctl(fd, RNDRESEEDCRNG)) < 0)
		fail(code, "IDENTIFY_FAILED", msg, cap, "reseed the kernel's random generator");
	explicit_bzero(info.buf, sizeof(info.buf));
	close(fd);
	return rc < 0 ? -1 : 0;
}

/* /etc/machine-id replaced in one rename: a reader sees the old id or the new one, never half.
 * Not fsynced: it is written again at every boot and restore, and a pause syncs the disks. */
static int write_machine_id(struct bytes id, const char **code, char *msg, size_t cap)
{
	char tmp[] = "/etc/.machine-id.XXXXXX", text[MACHINE_ID_LEN + 1];
	memcpy(text, id.p, MACHINE_ID_LEN);
	text[MACHINE_ID_LEN] = '\n';
	mkdir("/etc", 0755);
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return fail(code, "IDENTIFY_FAILED", msg, cap, "create /etc/machine-id");
	int ok = write(fd, text, sizeof(text)) == (ssize_t)sizeof(text) && fchmod(fd, 0444) == 0;
	int e = errno;
	close(fd);
	if (ok && rename(tmp, "/etc/machine-id") == 0)
		return 0;
	e = ok ? errno : e;
	unlink(tmp);
	errno = e;
	return fail(code, "IDENTIFY_FAILED", msg, cap, "write /etc/machine-id");
}

/* The workspace disk is mounted once: after a restore of a paused VM it already is. */
static int mount_workspace(struct bytes dev_b, const char **code, char *msg, size_t cap)
{
	char dev[6 + DEVICE_NAME_MAX];
	snprintf(dev, sizeof(dev), "%.*s", (int)dev_b.n, (const char *)dev_b.p);
	int mounted = path_is_mount_point(WORKSPACE_DIR);
	if (mounted < 0)
		return fail(code, "MOUNT_FAILED", msg, cap, WORKSPACE_DIR);
	if (mounted)
		return 0;
	/* A hot-added or just-probed disk may take a moment to appear in devtmpfs. */
	int64_t deadline = now_ms() + DEVICE_WAIT_MS;
	struct stat st;
	while (stat(dev, &st) < 0 || !S_ISBLK(st.st_mode)) {
		if (now_ms() >= deadline) {
			*code = "MOUNT_FAILED";
			snprintf(msg, cap, "%s is not a block device", dev);
			return -1;
		}
		sleep_ms(20);
	}
	mkdir(WORKSPACE_DIR, 0755);
	if (mount(dev, WORKSPACE_DIR, "ext4", MS_NOSUID | MS_NODEV, NULL) < 0) {
		*code = "MOUNT_FAILED";
		snprintf(msg, cap, "mount %s on %s: %s", dev, WORKSPACE_DIR, strerror(errno));
		return -1;
	}
	agent_log("mounted %s on %s", dev, WORKSPACE_DIR);
	return 0;
}

int identity_apply(const struct msg_identify *m, const char **code, char *msg, size_t cap)
{
	if (add_entropy(m->entropy, code, msg, cap) < 0)
		return -1;
	if (sethostname((const char *)m->hostname.p, m->hostname.n) < 0)
		return fail(code, "IDENTIFY_FAILED", msg, cap, "set the hostname");
	if (write_machine_id(m->machine_id, code, msg, cap) < 0)
		return -1;
	if (m->has_workspace_device && mount_workspace(m->workspace_device, code, msg, cap) < 0)
		return -1;
	return 0;
}
