/* self: host, pid and image, once (see self.h). */
#include "self.h"

#include <stdlib.h>
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
