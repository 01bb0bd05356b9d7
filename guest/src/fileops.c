#include "fileops.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "channel.h"
#include "fsmsg.h"

#define RESOLVE_NO_MAGICLINKS_ 0x02
#define RESOLVE_BENEATH_ 0x08
#define MAX_LINK_HOPS 16 /* symlinks a write follows to its real target */
#define MAX_DEPTH 256    /* directory levels a listing or a removal descends */
#define E_NOT_REGULAR 4096 /* not an errno: the path is a device, fifo or socket */

struct open_how_ {
	uint64_t flags, mode, resolve;
};

static const char *root_path = "/workspace";
static mode_t umask_bits = 022;

struct pending_write {
	int used;
	uint32_t stream;
	int dirfd, fd;
	char tmp[48], base[256];
	mode_t mode;
	uint64_t bytes;
	int has_mtime, no_fsync;
	uint64_t mtime_ns;
};
static struct pending_write writes[MAX_WRITES];
static unsigned tmp_serial;

void fs_set_root(const char *root)
{
	root_path = root;
	umask_bits = umask(0);
	umask(umask_bits);
}

/* Opens path below dirfd; the kernel refuses (EXDEV) any step that would leave it. */
static int beneath(int dirfd, const char *path, int flags)
{
	struct open_how_ how = { (uint64_t)(flags | O_CLOEXEC), 0, RESOLVE_BENEATH_ | RESOLVE_NO_MAGICLINKS_ };
	for (int tries = 0;; tries++) {
		long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
		if (fd >= 0)
			return (int)fd;
		/* EAGAIN: a concurrent rename raced with a `..` lookup; the kernel asks for a retry. */
		if (errno != EAGAIN || tries == 8)
			return -errno;
	}
}

static int open_root(void)
{
	int fd = open(root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static void reply_error(uint32_t stream, int e, const char *path)
{
	const char *code;
	switch (e) {
	case ENOENT: code = "NOT_FOUND"; break;
	case EXDEV: code = "OUTSIDE_ROOT"; break;
	case ELOOP: code = "SYMLINK_LOOP"; break;
	case ENOTDIR: code = "NOT_DIRECTORY"; break;
	case EISDIR: code = "IS_DIRECTORY"; break;
	case EEXIST: code = "EXISTS"; break;
	case ENOTEMPTY: code = "NOT_EMPTY"; break;
	case ENOSPC: case EDQUOT: code = "NO_SPACE"; break;
	case EACCES: case EPERM: code = "PERMISSION_DENIED"; break;
	case ENAMETOOLONG: code = "NAME_TOO_LONG"; break;
	case EINVAL: code = "INVALID_PATH"; break;
	case E_NOT_REGULAR: code = "NOT_REGULAR"; break;
	default: code = "FS_ERROR"; break;
	}
	chan_send_error(stream, code, "%.512s: %s", path,
			e == E_NOT_REGULAR ? "not a regular file" : strerror(e));
}

/* The request's path as a C string ("" means the root). */
static void c_path(struct bytes b, char *out)
{
	if (b.n == 0) {
		strcpy(out, ".");
		return;
	}
	memcpy(out, b.p, b.n);
	out[b.n] = 0;
}

/* Splits into parent and last component (trailing slashes dropped). Returns -EINVAL when
 * there is no component to act on (the root itself, `.` or `..`). */
static int split(const char *path, char *parent, char *base)
{
	char tmp[FS_PATH_MAX + 1];
	size_t n = strlen(path);
	memcpy(tmp, path, n + 1);
	while (n > 1 && tmp[n - 1] == '/')
		tmp[--n] = 0;
	char *slash = strrchr(tmp, '/');
	const char *last = slash ? slash + 1 : tmp;
	if (!*last || !strcmp(last, ".") || !strcmp(last, "..") || strlen(last) > 255)
		return -EINVAL;
	strcpy(base, last);
	if (!slash)
		strcpy(parent, ".");
	else if (slash == tmp)
		strcpy(parent, "/"); /* absolute: openat2 refuses it */
	else {
		*slash = 0;
		strcpy(parent, tmp);
	}
	return 0;
}

/* The directory holding path's last component, opened beneath root. */
static int open_parent(int root, const char *path, char *base)
{
	char parent[FS_PATH_MAX + 1];
	int rc = split(path, parent, base);
	if (rc < 0)
		return rc;
	return beneath(root, parent, O_RDONLY | O_DIRECTORY);
}

/* Files pyro creates belong to whoever owns the folder they are made in (the workspace root
 * belongs to the image's user), so a command running as that user can change them. The agent
 * creates them as itself; only a different owner needs a chown. Failures are ignored: the
 * file is still there, owned by the agent. */
static void own_like_parent(int pfd, const char *name, int fd)
{
	struct stat dir;
	if (fstat(pfd, &dir) < 0 || (dir.st_uid == geteuid() && dir.st_gid == getegid()))
		return;
	if (fd >= 0)
		(void)!fchown(fd, dir.st_uid, dir.st_gid);
	else
		(void)!fchownat(pfd, name, dir.st_uid, dir.st_gid, AT_SYMLINK_NOFOLLOW);
}

static void send_done(uint32_t stream, const struct msg_fs_done *d)
{
	long len = msg_encode_fs_done(chan_out + HEADER_SIZE, MAX_BODY, d);
	if (len >= 0)
		chan_send_out(stream, T_FS_DONE, 0, (size_t)len);
}

/* ---- list ---- */

struct lister {
	uint32_t stream, max, count;
	int truncated;
	struct tlv_writer w;
	char name[FS_PATH_MAX + 1];
};

static void flush_entries(struct lister *l)
{
	if (l->w.len > 0)
		chan_send_out(l->stream, T_FS_ENTRIES, 0, l->w.len);
	tlv_writer_init(&l->w, chan_out + HEADER_SIZE, MAX_BODY);
}

static uint32_t type_of(mode_t m)
{
	return S_ISREG(m) ? FS_FILE : S_ISDIR(m) ? FS_DIR : S_ISLNK(m) ? FS_SYMLINK : FS_OTHER;
}

/* Reports one entry; -1 once the cap is reached (the entry proves the listing truncated). */
static int emit(struct lister *l, size_t name_len, const struct stat *st, int dirfd, const char *base)
{
	if (l->count >= l->max) {
		l->truncated = 1;
		return -1;
	}
	char link[FS_PATH_MAX + 1];
	struct fs_entry e = {
		.name = { (const uint8_t *)l->name, (uint32_t)name_len },
		.type = type_of(st->st_mode),
		.mode = st->st_mode & 07777,
		.uid = st->st_uid,
		.gid = st->st_gid,
		.size = (uint64_t)st->st_size,
		.mtime_ns = st->st_mtim.tv_sec < 0 ? 0
						     : (uint64_t)st->st_mtim.tv_sec * 1000000000u + (uint64_t)st->st_mtim.tv_nsec,
	};
	if (S_ISLNK(st->st_mode)) {
		ssize_t n = readlinkat(dirfd, base, link, sizeof(link));
		if (n >= 0 && (size_t)n <= FS_PATH_MAX) {
			e.has_link = 1;
			e.link = (struct bytes){ (const uint8_t *)link, (uint32_t)n };
		}
	}
	if (fs_entry_put(&l->w, &e) < 0) {
		flush_entries(l);
		fs_entry_put(&l->w, &e); /* one entry always fits an empty body */
	}
	l->count++;
	return 0;
}

/* Lists dirfd's children (descendants when recursive) under l->name[0..prefix). Takes dirfd. */
static int walk(struct lister *l, int fd, size_t prefix, int recursive, int depth)
{
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return 0;
	}
	struct dirent *de;
	int rc = 0;
	while (rc == 0 && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		size_t n = strlen(de->d_name), at = prefix ? prefix + 1 : 0;
		if (at + n > FS_PATH_MAX) {
			l->truncated = 1;
			continue;
		}
		if (prefix)
			l->name[prefix] = '/';
		memcpy(l->name + at, de->d_name, n + 1);
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue; /* vanished meanwhile */
		if (emit(l, at + n, &st, dirfd(d), de->d_name) < 0) {
			rc = -1;
			break;
		}
		if (recursive && S_ISDIR(st.st_mode)) {
			if (depth >= MAX_DEPTH) {
				l->truncated = 1;
				continue;
			}
			/* O_NOFOLLOW: a directory swapped for a symlink since the stat is not entered. */
			int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				rc = walk(l, sub, at + n, recursive, depth + 1);
		}
	}
	closedir(d);
	return rc;
}

static void fs_list(uint32_t stream, int root, const struct msg_fs *m, const char *path)
{
	static struct lister state; /* ~4 KiB of name: not on the stack */
	struct lister *l = &state;
	memset(l, 0, sizeof(*l));
	l->stream = stream;
	l->max = m->max_entries < FS_LIST_MAX ? m->max_entries : FS_LIST_MAX;
	tlv_writer_init(&l->w, chan_out + HEADER_SIZE, MAX_BODY);
	int fd = -ENOTDIR;
	if (m->scope != FS_SELF)
		fd = beneath(root, path, O_RDONLY | O_DIRECTORY);
	if (fd >= 0) {
		walk(l, fd, 0, m->scope == FS_RECURSIVE, 0);
	} else if (fd != -ENOTDIR) {
		return reply_error(stream, -fd, path);
	} else {
		/* The path itself, not followed: a file, a link, or (FS_SELF) a directory. */
		fd = beneath(root, path, O_PATH | O_NOFOLLOW);
		struct stat st;
		if (fd < 0)
			return reply_error(stream, -fd, path);
		if (fstat(fd, &st) < 0) {
			int e = errno;
			close(fd);
			return reply_error(stream, e, path);
		}
		emit(l, 0, &st, fd, "");
		close(fd);
	}
	flush_entries(l);
	send_done(stream, &(struct msg_fs_done){ .has_count = 1, .count = l->count, .has_truncated = 1,
						 .truncated = (uint32_t)l->truncated });
}

/* ---- read ---- */

static void fs_read(uint32_t stream, int root, const struct msg_fs *m, const char *path)
{
	/* O_NONBLOCK: opening a fifo must not hang the agent; it is refused below anyway. */
	int fd = beneath(root, path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
	struct stat st;
	if (fd < 0)
		return reply_error(stream, -fd, path);
	int e = fstat(fd, &st) < 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : !S_ISREG(st.st_mode) ? E_NOT_REGULAR : 0;
	uint64_t off = m->offset, left = m->length;
	while (!e && left > 0) {
		ssize_t n = pread(fd, chan_out + HEADER_SIZE, left < MAX_BODY ? left : MAX_BODY, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			e = errno;
		if (n <= 0)
			break;
		if (chan_send_out(stream, T_FS_DATA, 0, (size_t)n) < 0)
			break;
		off += (uint64_t)n;
		left -= (uint64_t)n;
	}
	close(fd);
	if (e)
		return reply_error(stream, e, path);
	send_done(stream, &(struct msg_fs_done){ .has_size = 1, .size = (uint64_t)st.st_size });
}

/* ---- mkdir ---- */

/* mkdir -p beneath root: every prefix is created if missing and must be a directory. */
static int make_dirs(int root, const char *path)
{
	char prefix[FS_PATH_MAX + 1], base[256];
	size_t n = strlen(path);
	for (size_t i = 1; i <= n; i++) {
		if (i < n && path[i] != '/')
			continue;
		memcpy(prefix, path, i);
		prefix[i] = 0;
		int fd = beneath(root, prefix, O_PATH | O_DIRECTORY);
		if (fd >= 0) {
			close(fd);
			continue;
		}
		if (fd != -ENOENT)
			return fd;
		int pfd = open_parent(root, prefix, base);
		if (pfd < 0)
			return pfd;
		int rc = mkdirat(pfd, base, 0777) < 0 ? (errno != EEXIST ? -errno : 0) : (own_like_parent(pfd, base, -1), 0);
		close(pfd);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static void fs_mkdir(uint32_t stream, int root, const struct msg_fs *m, const char *path)
{
	char base[256];
	int rc;
	if (m->parents) {
		rc = make_dirs(root, path);
	} else {
		int pfd = open_parent(root, path, base);
		rc = pfd < 0 ? pfd : mkdirat(pfd, base, 0777) < 0 ? -errno : 0;
		if (rc == 0)
			own_like_parent(pfd, base, -1);
		if (pfd >= 0)
			close(pfd);
	}
	if (rc == 0 && m->has_mode) {
		int fd = beneath(root, path, O_RDONLY | O_DIRECTORY);
		rc = fd < 0 ? fd : fchmod(fd, m->mode) < 0 ? -errno : 0;
		if (fd >= 0)
			close(fd);
	}
	if (rc < 0)
		return reply_error(stream, -rc, path);
	send_done(stream, &(struct msg_fs_done){ 0 });
}

/* ---- remove ---- */

static int remove_tree(int dfd, const char *name, int depth)
{
	if (depth >= MAX_DEPTH)
		return -ELOOP;
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	struct dirent *de;
	int rc = 0;
	while (rc == 0 && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			rc = remove_tree(dirfd(d), de->d_name, depth + 1);
		else if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT)
			rc = -errno;
	}
	closedir(d);
	if (rc == 0 && unlinkat(dfd, name, AT_REMOVEDIR) < 0)
		rc = -errno;
	return rc;
}

static void fs_remove(uint32_t stream, int root, const struct msg_fs *m, const char *path)
{
	char base[256];
	struct stat st;
	int pfd = open_parent(root, path, base), rc;
	if (pfd < 0)
		return reply_error(stream, -pfd, path);
	if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		rc = -errno;
	else if (S_ISDIR(st.st_mode))
		rc = m->recursive ? remove_tree(pfd, base, 0) : -EISDIR;
	else
		rc = unlinkat(pfd, base, 0) < 0 ? -errno : 0;
	close(pfd);
	if (rc < 0)
		return reply_error(stream, -rc, path);
	send_done(stream, &(struct msg_fs_done){ 0 });
}

/* ---- rename, chmod, realpath, link ---- */

static void fs_rename(uint32_t stream, int root, const struct msg_fs *m, const char *path)
{
	char target[FS_PATH_MAX + 1], base[256], tbase[256];
	c_path(m->target, target);
	int pfd = open_parent(root, path, base);
	if (pfd < 0)
		return reply_error(stream, -pfd, path);
	int tfd = open_parent(root, target, tbase);
	int rc = tfd < 0 ? tfd : renameat(pfd, base, tfd, tbase) < 0 ? -errno : 0;
	close(pfd);
	if (tfd >= 0)
		close(tfd);
	if (rc < 0)
		return reply_error(stream, -rc, tfd < 0 ? target : path);
	send_done(stream, &(struct msg_fs_done){ 0 });
}

/* chmod follows a final symlink (confined like every step), as chmod(1) does. */
static void fs_chmod(uint32_t stream, int root, const struct msg_fs *m, const char *path)
{
	char proc[64];
	int fd = beneath(root, path, O_PATH);
	if (fd < 0)
		return reply_error(stream, -fd, path);
	/* An O_PATH descriptor cannot fchmod; its /proc link names exactly the file it holds. */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	int rc = chmod(proc, m->mode) < 0 ? -errno : 0;
	close(fd);
	if (rc < 0)
		return reply_error(stream, -rc, path);
	send_done(stream, &(struct msg_fs_done){ 0 });
}

static int fd_path(int fd, char *out, size_t cap)
{
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(proc, out, cap - 1);
	if (n < 0)
		return -errno;
	out[n] = 0;
	return 0;
}

static void fs_realpath(uint32_t stream, int root, const char *path)
{
	static char real[2 * FS_PATH_MAX + 2], top[2 * FS_PATH_MAX + 2];
	int fd = beneath(root, path, O_PATH);
	if (fd < 0)
		return reply_error(stream, -fd, path);
	int rc = fd_path(fd, real, sizeof(real));
	close(fd);
	if (rc == 0)
		rc = fd_path(root, top, sizeof(top));
	if (rc < 0)
		return reply_error(stream, -rc, path);
	size_t n = strlen(top);
	const char *rest = NULL;
	if (!strcmp(real, top))
		rest = "";
	else if (!strncmp(real, top, n) && (real[n] == '/' || n == 1))
		rest = real + (n == 1 ? 1 : n + 1);
	if (!rest || strlen(rest) > FS_PATH_MAX)
		return reply_error(stream, EXDEV, path);
	send_done(stream, &(struct msg_fs_done){ .has_path = 1, .path = bytes_of(rest) });
}

/* A symbolic link (target stored as given) or a hard link to target; replaces a non-directory. */
static void fs_link(uint32_t stream, int root, const struct msg_fs *m, const char *path)
{
	char target[FS_PATH_MAX + 1], base[256], tbase[256];
	c_path(m->target, target);
	int pfd = open_parent(root, path, base), tfd = -1, rc;
	if (pfd < 0)
		return reply_error(stream, -pfd, path);
	if (m->hard)
		tfd = open_parent(root, target, tbase);
	for (int tries = 0;; tries++) {
		if (m->hard)
			rc = tfd < 0 ? tfd : linkat(tfd, tbase, pfd, base, 0) < 0 ? -errno : 0;
		else
			rc = symlinkat(target, pfd, base) < 0 ? -errno : 0;
		if (rc == 0 && !m->hard)
			own_like_parent(pfd, base, -1);
		struct stat st;
		if (rc != -EEXIST || tries > 0 || fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    S_ISDIR(st.st_mode) || unlinkat(pfd, base, 0) < 0)
			break;
	}
	close(pfd);
	if (tfd >= 0)
		close(tfd);
	if (rc < 0)
		return reply_error(stream, -rc, path);
	send_done(stream, &(struct msg_fs_done){ 0 });
}

/* ---- write: temp file beside the target, fsync, rename ---- */

static struct pending_write *find_write(uint32_t stream)
{
	for (int i = 0; i < MAX_WRITES; i++)
		if (writes[i].used && writes[i].stream == stream)
			return &writes[i];
	return NULL;
}

static void drop_write(struct pending_write *w)
{
	close(w->fd);
	unlinkat(w->dirfd, w->tmp, 0);
	close(w->dirfd);
	w->used = 0;
}

static void fail_write(struct pending_write *w, int e)
{
	uint32_t stream = w->stream;
	char base[256];
	strcpy(base, w->base);
	drop_write(w);
	reply_error(stream, e, base);
}

static void finish_write(struct pending_write *w)
{
	if (fchmod(w->fd, w->mode) < 0)
		return fail_write(w, errno);
	if (w->has_mtime) {
		struct timespec ts[2] = { { 0, UTIME_OMIT },
					  { (time_t)(w->mtime_ns / 1000000000u), (long)(w->mtime_ns % 1000000000u) } };
		if (futimens(w->fd, ts) < 0)
			return fail_write(w, errno);
	}
	if (!w->no_fsync && fsync(w->fd) < 0)
		return fail_write(w, errno);
	if (renameat(w->dirfd, w->tmp, w->dirfd, w->base) < 0)
		return fail_write(w, errno);
	close(w->fd);
	close(w->dirfd);
	w->used = 0;
	send_done(w->stream, &(struct msg_fs_done){ .has_size = 1, .size = w->bytes });
}

static int append(struct pending_write *w, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(w->fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		p += k;
		n -= (size_t)k;
		w->bytes += (uint64_t)k;
	}
	return 0;
}

/* Finds where a write lands: through symlinks (each step confined; an absolute target is
 * outside by definition) to a missing name or a non-directory. Returns the parent dirfd. */
static int write_target(int root, char *path, char *base, struct stat *st, int *exists)
{
	for (int hops = 0;; hops++) {
		int pfd = open_parent(root, path, base);
		if (pfd < 0)
			return pfd == -EINVAL ? -EISDIR : pfd;
		*exists = fstatat(pfd, base, st, AT_SYMLINK_NOFOLLOW) == 0;
		if (!*exists)
			return errno == ENOENT ? pfd : (close(pfd), -errno);
		if (S_ISDIR(st->st_mode)) {
			close(pfd);
			return -EISDIR;
		}
		if (!S_ISLNK(st->st_mode))
			return pfd;
		char link[FS_PATH_MAX + 1], next[FS_PATH_MAX + 1];
		ssize_t n = readlinkat(pfd, base, link, sizeof(link) - 1);
		close(pfd);
		if (n < 0)
			return -errno;
		link[n] = 0;
		if (link[0] == '/')
			return -EXDEV;
		if (hops == MAX_LINK_HOPS)
			return -ELOOP;
		char *slash = strrchr(path, '/');
		int len = slash ? snprintf(next, sizeof(next), "%.*s/%s", (int)(slash - path), path, link)
				: snprintf(next, sizeof(next), "%s", link);
		if (len < 0 || (size_t)len >= sizeof(next))
			return -ENAMETOOLONG;
		strcpy(path, next);
	}
}

static void fs_write(const struct frame *f, int root, const struct msg_fs *m, char *path)
{
	struct pending_write *w = NULL;
	for (int i = 0; i < MAX_WRITES && !w; i++)
		if (!writes[i].used)
			w = &writes[i];
	if (!w) {
		chan_send_error(f->stream, "TOO_MANY_STREAMS", "at most %d writes may be open at once", MAX_WRITES);
		return;
	}
	char parent[FS_PATH_MAX + 1], base[256];
	if (m->parents && split(path, parent, base) == 0) {
		int rc = make_dirs(root, parent);
		if (rc < 0)
			return reply_error(f->stream, -rc, parent);
	}
	struct stat st;
	int exists;
	int pfd = write_target(root, path, base, &st, &exists);
	if (pfd < 0)
		return reply_error(f->stream, -pfd, path);
	memset(w, 0, sizeof(*w));
	w->stream = f->stream;
	w->dirfd = pfd;
	w->mode = m->has_mode ? m->mode : exists ? st.st_mode & 07777 : 0666 & ~umask_bits;
	w->has_mtime = m->has_mtime;
	w->mtime_ns = m->mtime_ns;
	w->no_fsync = m->no_fsync != 0;
	strcpy(w->base, base);
	snprintf(w->tmp, sizeof(w->tmp), ".pyro-write.%d.%u", (int)getpid(), ++tmp_serial);
	w->fd = openat(pfd, w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (w->fd < 0) {
		int e = errno;
		close(pfd);
		return reply_error(f->stream, e, path);
	}
	/* A replaced file keeps its owner; a new one takes its folder's. */
	if (exists && (st.st_uid != geteuid() || st.st_gid != getegid()))
		(void)!fchown(w->fd, st.st_uid, st.st_gid);
	else if (!exists)
		own_like_parent(pfd, w->tmp, w->fd);
	w->used = 1;
	if (m->has_data) {
		int rc = append(w, m->data.p, m->data.n);
		if (rc < 0)
			return fail_write(w, -rc);
	}
	if (f->flags & FLAG_END)
		finish_write(w);
}

void fs_data(const struct frame *f)
{
	struct pending_write *w = find_write(f->stream);
	if (!w)
		return; /* a write that already failed: its ERROR is on the way */
	int rc = append(w, f->body, f->len);
	if (rc < 0)
		return fail_write(w, -rc);
	if (f->flags & FLAG_END)
		finish_write(w);
}

int fs_busy(uint32_t stream)
{
	return find_write(stream) != NULL;
}

int fs_writes_pending(void)
{
	int n = 0;
	for (int i = 0; i < MAX_WRITES; i++)
		n += writes[i].used;
	return n;
}

int fs_abort(uint32_t stream)
{
	struct pending_write *w = find_write(stream);
	if (w)
		drop_write(w);
	return w != NULL;
}

void fs_abort_all(void)
{
	for (int i = 0; i < MAX_WRITES; i++)
		if (writes[i].used)
			drop_write(&writes[i]);
}

void fs_request(const struct frame *f)
{
	struct msg_fs m;
	const char *err;
	char path[FS_PATH_MAX + 1];
	if (msg_decode_fs(f->type, f->body, f->len, &m, &err) < 0)
		return; /* validated by dispatch */
	c_path(m.path, path);
	int root = open_root();
	if (root < 0)
		return reply_error(f->stream, -root, root_path);
	switch (f->type) {
	case T_FS_LIST: fs_list(f->stream, root, &m, path); break;
	case T_FS_READ: fs_read(f->stream, root, &m, path); break;
	case T_FS_WRITE: fs_write(f, root, &m, path); break;
	case T_FS_MKDIR: fs_mkdir(f->stream, root, &m, path); break;
	case T_FS_REMOVE: fs_remove(f->stream, root, &m, path); break;
	case T_FS_RENAME: fs_rename(f->stream, root, &m, path); break;
	case T_FS_CHMOD: fs_chmod(f->stream, root, &m, path); break;
	case T_FS_REALPATH: fs_realpath(f->stream, root, path); break;
	case T_FS_LINK: fs_link(f->stream, root, &m, path); break;
	}
	close(root);
}
