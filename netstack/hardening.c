#include "hardening.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define NOBODY 65534

static void fail(const char *what, int err)
{
	fprintf(stderr, "pyro-netstack: %s: %s\n", what, strerror(err));
	exit(1);
}

/* Nothing here needs root once the sockets can be made: run as nobody. */
static void drop_user(void)
{
	if (getuid() != 0 && geteuid() != 0)
		return;
	if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
		fail("drop privileges", errno);
}

/* What the event loop, libslirp (its sockets, /etc/resolv.conf), malloc and getifaddrs use. A
 * call outside this list fails with EPERM instead of running. */
static void install_seccomp(void)
{
	static const int plain[] = {
		SCMP_SYS(read),		SCMP_SYS(write),      SCMP_SYS(readv),	     SCMP_SYS(writev),
		SCMP_SYS(close),	SCMP_SYS(poll),	      SCMP_SYS(ppoll),	     SCMP_SYS(clock_gettime),
		SCMP_SYS(gettimeofday), SCMP_SYS(nanosleep),  SCMP_SYS(connect),     SCMP_SYS(bind),
		SCMP_SYS(getsockname),	SCMP_SYS(getpeername), SCMP_SYS(setsockopt), SCMP_SYS(getsockopt),
		SCMP_SYS(sendto),	SCMP_SYS(recvfrom),   SCMP_SYS(sendmsg),     SCMP_SYS(recvmsg),
		SCMP_SYS(shutdown),	SCMP_SYS(fcntl),      SCMP_SYS(brk),
		SCMP_SYS(munmap),	SCMP_SYS(mremap),     SCMP_SYS(madvise),     SCMP_SYS(exit),
		SCMP_SYS(exit_group),	SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask), SCMP_SYS(getpid),
		SCMP_SYS(gettid),	SCMP_SYS(getppid),    SCMP_SYS(getrandom),   SCMP_SYS(fstat),
		SCMP_SYS(newfstatat),	SCMP_SYS(stat),	      SCMP_SYS(statx),	     SCMP_SYS(lseek),
		SCMP_SYS(futex),	SCMP_SYS(restart_syscall), SCMP_SYS(getuid), SCMP_SYS(geteuid),
	};
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	if (!ctx)
		fail("seccomp_init", ENOMEM);
	int rc = 0;
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]) && rc == 0; i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, plain[i], 0);
	/* Sockets: IPv4 for NAT, netlink for the host's addresses. */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ, AF_INET));
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ, AF_NETLINK));
	/* Files: read-only opens (resolv.conf, /proc/self/status). */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
				      SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT | O_TRUNC, O_RDONLY));
	/* No new executable memory. */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				      SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_EQ, FIONREAD));
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1, SCMP_A0(SCMP_CMP_EQ, PR_GET_PDEATHSIG));
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc != 0)
		fail("seccomp", -rc);
}

void harden(pid_t supervisor)
{
	drop_user();
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		fail("no_new_privs", errno);
	/* After the credential change, which clears it; then the parent may already be gone. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		fail("parent death signal", errno);
	if (getppid() != supervisor)
		exit(1);
	install_seccomp();
}

/* The value of a "Name:\tvalue" line of /proc/self/status, or "?". */
static void status_field(const char *name, char *value, size_t size)
{
	snprintf(value, size, "?");
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		return;
	char line[256];
	size_t n = strlen(name);
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, name, n) == 0 && line[n] == ':') {
			char *v = line + n + 1;
			v += strspn(v, " \t");
			v[strcspn(v, "\n")] = 0;
			snprintf(value, size, "%s", v);
			break;
		}
	}
	fclose(f);
}

void hardening_report(FILE *out)
{
	char nnp[32], seccomp[32];
	status_field("NoNewPrivs", nnp, sizeof(nnp));
	status_field("Seccomp", seccomp, sizeof(seccomp));
	int sig = 0;
	prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0);
	fprintf(out, "uid %d\n", (int)geteuid());
	fprintf(out, "no_new_privs %s\n", strcmp(nnp, "1") == 0 ? "on" : "off");
	fprintf(out, "seccomp %s\n", strcmp(seccomp, "2") == 0 ? "filter" : "off");
	fprintf(out, "parent_death_signal %s\n", sig == SIGKILL ? "SIGKILL" : "none");
}
