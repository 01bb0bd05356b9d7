#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

static int log_fd = 2;

void log_set_fd(int fd)
{
	log_fd = fd;
}

void agent_log(const char *fmt, ...)
{
	char line[512];
	int n = snprintf(line, sizeof(line), "pyro-agent: ");
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	n += m;
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	/* One write per line so lines from the kernel and us do not interleave mid-line. */
	if (log_fd >= 0 && write(log_fd, line, (size_t)n) < 0)
		return;
}
