/* termlog: see termlog.h. */
#include "termlog.h"
#include "log.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TERMLOG_DEFAULT "/dev/termination-log"

void termlog_write(const struct config *cfg)
{
	const char *msg = log_first_fatal();
	if (!*msg)
		return; /* PROGRAM's own exit: its message, if any, is its own */
	const char *path = cfg->termination_log ? cfg->termination_log : TERMLOG_DEFAULT;
	/* Never created (outside Kubernetes there is none), never a FIFO or
	 * a device that could block or take the text somewhere else. */
	int fd = open(path, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return;
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && ftruncate(fd, 0) == 0) {
		size_t len = strlen(msg), off = 0;
		while (off < len) {
			ssize_t n = write(fd, msg + off, len - off);
			if (n <= 0)
				break;
			off += (size_t)n;
		}
	}
	close(fd);
}
