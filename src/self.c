/* self: host, pid and image, once, and what /proc says of a process (see
 * self.h). */
#include "self.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *self_host(void)
{
	static char host[65];
	if (!host[0] && gethostname(host, sizeof(host) - 1) != 0)
		host[0] = '\0';
	return host[0] ? host : "unknown";
}

long self_pid(void)
{
	static long pid;
	if (!pid)
		pid = (long)getpid();
	return pid;
}

const char *self_image(void)
{
	const char *image = getenv("VOLINIT_IMAGE");
	return image ? image : "";
}

bool self_proc_stat(pid_t pid, pid_t *ppid, unsigned long long *start)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf) - 1)) < 0 && errno == EINTR)
		;
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: skip to the last
	 * ')'. Then "S PPID PGRP ...": the start time is the 20th field after
	 * the state (field 22 of proc(5)). */
	char *p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || !p[2] || p[3] != ' ')
		return false;
	char *end;
	long pp = strtol(p + 4, &end, 10);
	if (end == p + 4)
		return false;
	p = end;
	for (int field = 5; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p)
		return false;
	*start = strtoull(p + 1, &end, 10);
	if (end == p + 1)
		return false;
	*ppid = (pid_t)pp;
	return true;
}
