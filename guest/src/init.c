#include "init.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "net.h"
#include "util.h"

#define MODULES_DIR "/pyro/modules/"
#define MODULES_ORDER "/pyro/modules.order"
#define AGENT_PORT_NAME "org.pyro.agent"
#define WAIT_MS 10000
#define MODULE_INIT_COMPRESSED_FILE 4
#define RAMFS_MAGIC_ 0x858458f6ul
#define TMPFS_MAGIC_ 0x01021994ul

static void mkdir_p(const char *path, mode_t mode)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p == '/') {
			*p = 0;
			mkdir(buf, mode);
			*p = '/';
		}
	}
	mkdir(buf, mode);
}

static int do_mount(const char *src, const char *dst, const char *type, unsigned long flags, const char *data)
{
	mkdir_p(dst, 0755);
	if (mount(src, dst, type, flags, data) < 0 && errno != EBUSY) {
		agent_log("mount %s on %s failed: %s", type ? type : src, dst, strerror(errno));
		return -1;
	}
	return 0;
}

/* Without fds 0-2 a later open() could land on them and be clobbered by a child's dup2. */
static void ensure_std_fds(void)
{
	int fd;
	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd < 3)
		;
	if (fd > 2)
		close(fd);
}

static void load_modules(void)
{
	FILE *f = fopen(MODULES_ORDER, "re");
	if (!f)
		return;
	char line[512], path[600];
	int loaded = 0;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = 0;
		if (!line[0] || line[0] == '#')
			continue;
		snprintf(path, sizeof(path), MODULES_DIR "%s", line);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			agent_log("module %s: %s", line, strerror(errno));
			continue;
		}
		size_t n = strlen(line);
		int compressed = (n > 3 && (!strcmp(line + n - 3, ".xz") || !strcmp(line + n - 3, ".gz"))) ||
				 (n > 4 && !strcmp(line + n - 4, ".zst"));
		if (syscall(SYS_finit_module, fd, "", compressed ? MODULE_INIT_COMPRESSED_FILE : 0) < 0) {
			if (errno != EEXIST)
				agent_log("module %s: %s", line, strerror(errno));
		} else {
			loaded++;
		}
		close(fd);
	}
	fclose(f);
	agent_log("loaded %d kernel modules", loaded);
}

/* Value of key=... on the kernel command line, copied into out; def when absent. */
static void cmdline_get(const char *cmdline, const char *key, const char *def, char *out, size_t cap)
{
	size_t klen = strlen(key);
	const char *p = cmdline;
	snprintf(out, cap, "%s", def);
	while (*p) {
		while (*p == ' ' || *p == '\n')
			p++;
		const char *end = p + strcspn(p, " \n");
		if ((size_t)(end - p) > klen && !strncmp(p, key, klen) && p[klen] == '=') {
			size_t vlen = (size_t)(end - p) - klen - 1;
			if (vlen >= cap)
				vlen = cap - 1;
			memcpy(out, p + klen + 1, vlen);
			out[vlen] = 0;
		}
		p = end;
	}
}

/* Splits mount(8)-style options into flags and the data string the filesystem parses. */
static unsigned long parse_rootflags(const char *opts, char *data, size_t cap)
{
	static const struct {
		const char *name;
		unsigned long set, clear;
	} known[] = {
		{ "ro", MS_RDONLY, 0 }, { "rw", 0, MS_RDONLY }, { "noatime", MS_NOATIME, 0 },
		{ "relatime", MS_RELATIME, 0 }, { "nodiratime", MS_NODIRATIME, 0 },
		{ "nosuid", MS_NOSUID, 0 }, { "nodev", MS_NODEV, 0 }, { "sync", MS_SYNCHRONOUS, 0 },
	};
	unsigned long flags = 0;
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", opts);
	data[0] = 0;
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t i;
		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (!strcmp(tok, known[i].name))
				break;
		if (i < sizeof(known) / sizeof(known[0])) {
			flags = (flags | known[i].set) & ~known[i].clear;
		} else {
			size_t len = strlen(data);
			snprintf(data + len, cap - len, "%s%s", len ? "," : "", tok);
		}
	}
	return flags;
}

static void read_cmdline(char *out, size_t cap)
{
	out[0] = 0;
	int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, out, cap - 1);
		out[n > 0 ? n : 0] = 0;
		close(fd);
	}
}

static int mount_root(const char *cmdline)
{
	char dev[256], fstype[64], flagstr[512], data[512];
	cmdline_get(cmdline, "pyro.root", "/dev/vda", dev, sizeof(dev));
	cmdline_get(cmdline, "pyro.rootfstype", "ext4", fstype, sizeof(fstype));
	cmdline_get(cmdline, "pyro.rootflags", "", flagstr, sizeof(flagstr));
	unsigned long flags = parse_rootflags(flagstr, data, sizeof(data));
	mkdir_p("/newroot", 0755);
	/* The block device appears asynchronously once virtio_blk probes it. */
	int64_t deadline = now_ms() + WAIT_MS;
	for (;;) {
		struct stat st;
		if (stat(dev, &st) == 0 && S_ISBLK(st.st_mode) &&
		    mount(dev, "/newroot", fstype, flags, data[0] ? data : NULL) == 0)
			break;
		if (now_ms() >= deadline) {
			agent_log("cannot mount root %s (%s): %s", dev, fstype, strerror(errno));
			return -1;
		}
		sleep_ms(20);
	}
	agent_log("mounted %s (%s) as root", dev, fstype);
	return 0;
}

/* Frees the initramfs (the module files are most of it), like switch_root:
 * never crosses into another filesystem such as /newroot. */
static void delete_contents(int dfd, dev_t rootdev)
{
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		struct stat st;
		if (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_dev != rootdev)
			continue;
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				delete_contents(sub, rootdev);
			unlinkat(dfd, e->d_name, AT_REMOVEDIR);
		} else {
			unlinkat(dfd, e->d_name, 0);
		}
	}
	closedir(d);
}

static int switch_root(void)
{
	static const char *const moved[] = { "/dev", "/proc", "/sys" };
	char target[64];
	for (size_t i = 0; i < 3; i++) {
		snprintf(target, sizeof(target), "/newroot%s", moved[i]);
		mkdir(target, 0755);
		if (mount(moved[i], target, NULL, MS_MOVE, NULL) < 0) {
			agent_log("move %s: %s", moved[i], strerror(errno));
			return -1;
		}
	}
	if (chdir("/newroot") < 0)
		return -1;
	struct statfs sfs;
	struct stat st;
	if (statfs("/", &sfs) == 0 && stat("/", &st) == 0 &&
	    ((unsigned long)sfs.f_type == RAMFS_MAGIC_ || (unsigned long)sfs.f_type == TMPFS_MAGIC_))
		delete_contents(open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC), st.st_dev);
	if (mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0 || chdir("/") < 0) {
		agent_log("switch root: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void setup_loopback(void)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "lo");
	if (ioctl(s, SIOCGIFADDR, &ifr) < 0) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (ioctl(s, SIOCSIFADDR, &ifr) < 0)
			agent_log("lo address: %s", strerror(errno));
		sin->sin_addr.s_addr = htonl(0xff000000u);
		ioctl(s, SIOCSIFNETMASK, &ifr);
	}
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
			agent_log("lo up: %s", strerror(errno));
	}
	close(s);
}

int guest_setup(void)
{
	mkdir("/dev", 0755);
	if (mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755") < 0 && errno != EBUSY)
		return -1;
	int con = open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);
	if (con >= 0)
		log_set_fd(con);
	ensure_std_fds();
	agent_log("starting (version %s)", AGENT_VERSION);
	do_mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	do_mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	load_modules();
	char cmdline[4096], net[128];
	read_cmdline(cmdline, sizeof(cmdline));
	if (mount_root(cmdline) < 0 || switch_root() < 0)
		return -1;
	do_mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "ptmxmode=0666,mode=0620,gid=5");
	do_mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
	do_mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
	do_mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
	mkdir_p("/workspace", 0755);
	if (sethostname("pyro", 4) < 0)
		agent_log("sethostname: %s", strerror(errno));
	setup_loopback();
	cmdline_get(cmdline, "pyro.net", "", net, sizeof(net));
	if (net[0])
		guest_network_setup(net);
	return 0;
}

static int port_name_matches(const char *port)
{
	char path[300], name[64] = "";
	snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", port);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, name, sizeof(name) - 1);
	close(fd);
	name[n > 0 ? n : 0] = 0;
	name[strcspn(name, "\n")] = 0;
	return !strcmp(name, AGENT_PORT_NAME);
}

int guest_open_channel(void)
{
	int64_t deadline = now_ms() + WAIT_MS;
	char dev[300] = "";
	for (;;) {
		DIR *d = opendir("/sys/class/virtio-ports");
		struct dirent *e;
		while (d && !dev[0] && (e = readdir(d)))
			if (e->d_name[0] != '.' && port_name_matches(e->d_name))
				snprintf(dev, sizeof(dev), "/dev/%s", e->d_name);
		if (d)
			closedir(d);
		if (dev[0]) {
			/* devtmpfs may create the node a moment after sysfs shows the port. */
			int fd = open(dev, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
			if (fd >= 0) {
				agent_log("channel %s open", dev);
				return fd;
			}
		}
		if (now_ms() >= deadline) {
			agent_log("no virtio port named %s (%s)", AGENT_PORT_NAME, dev[0] ? strerror(errno) : "not found");
			return -1;
		}
		sleep_ms(20);
	}
}

void guest_kill_all(int ms)
{
	kill(-1, SIGKILL); /* as PID 1 this spares only ourselves */
	int64_t deadline = now_ms() + ms;
	while (now_ms() < deadline) {
		pid_t p = waitpid(-1, NULL, WNOHANG);
		if (p < 0 && errno == ECHILD)
			return;
		if (p <= 0)
			sleep_ms(5);
	}
}

void guest_poweroff(void)
{
	agent_log("powering off");
	sync();
	static const char *const tmpfs[] = { "/dev/shm", "/tmp", "/run", "/dev/pts" };
	for (size_t i = 0; i < sizeof(tmpfs) / sizeof(tmpfs[0]); i++)
		umount2(tmpfs[i], MNT_DETACH);
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY, NULL) < 0)
		agent_log("remount / read-only: %s", strerror(errno));
	sync();
	reboot(RB_POWER_OFF);
	agent_log("power off failed: %s", strerror(errno));
	for (;;)
		pause();
}
