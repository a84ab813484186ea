/* journal: the volume's event log (see journal.h). One write(2) per event
 * on an O_APPEND descriptor keeps concurrent writers' lines whole. */
#include "journal.h"
#include "jbuf.h"
#include "self.h"
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define JOURNAL "journal.jsonl"

void journal_event(int voldirfd, const struct volume_conf *v, const char *event, int32_t from,
		   int32_t to, const char *detail)
{
	if (voldirfd < 0)
		return;
	/* Every field bounded, so that the line is never cut: one whole JSON
	 * object per line, whatever the image or the detail. */
	char line[4096];
	struct jbuf b;
	jbuf_init(&b, line, sizeof(line) - 1);
	jbuf_puts(&b, "{\"time\":\"");
	jbuf_time(&b);
	jbuf_puts(&b, "\",\"host\":");
	jbuf_json_str_max(&b, self_host(), 256);
	jbuf_printf(&b, ",\"pid\":%ld,\"image\":", self_pid());
	jbuf_json_str_max(&b, self_image(), 512);
	jbuf_puts(&b, ",\"event\":");
	jbuf_json_str_max(&b, event, 64);
	jbuf_puts(&b, ",\"volume\":");
	jbuf_json_str_max(&b, v->name, 1024);
	if (from >= 0)
		jbuf_printf(&b, ",\"from\":%d", (int)from);
	else
		jbuf_puts(&b, ",\"from\":null");
	if (to >= 0)
		jbuf_printf(&b, ",\"to\":%d", (int)to);
	else
		jbuf_puts(&b, ",\"to\":null");
	jbuf_puts(&b, ",\"detail\":");
	jbuf_json_str_max(&b, detail, 1024);
	jbuf_puts(&b, "}");
	line[b.len++] = '\n';

	int sfd = state_open(voldirfd, false);
	if (sfd < 0)
		return;
	int fd = openat(sfd, JOURNAL, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		close(sfd);
		return;
	}
	struct stat st;
	if (fstat(fd, &st) != 0)
		st.st_size = 0;
	if (st.st_size == 0)
		state_own(sfd, JOURNAL); /* new */
	if (st.st_size + (off_t)b.len > JOURNAL_ROTATE_BYTES) {
		/* Two writers may both rotate; the second renames a short new
		 * file over .1, losing at most a few lines of history. */
		close(fd);
		renameat(sfd, JOURNAL, sfd, JOURNAL ".1");
		fd = openat(sfd, JOURNAL, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		state_own(sfd, JOURNAL);
	}
	close(sfd);
	if (fd < 0)
		return;
	(void)!write(fd, line, b.len);
	close(fd);
}

int journal_tail(int voldirfd, int n, char *buf, size_t len)
{
	int sfd = state_open(voldirfd, false);
	int fd = sfd < 0 ? -1 : openat(sfd, JOURNAL, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (sfd >= 0)
		close(sfd);
	if (fd < 0 || len < 2)
		return fd < 0 ? 0 : (close(fd), 0);
	struct stat st;
	off_t start = 0;
	if (fstat(fd, &st) == 0 && st.st_size > (off_t)len - 1)
		start = st.st_size - (off_t)(len - 1);
	ssize_t got = pread(fd, buf, len - 1, start);
	close(fd);
	if (got <= 0)
		return 0;
	buf[got] = '\0';
	/* Count back n complete lines from the end. */
	char *end = buf + got;
	if (end > buf && end[-1] == '\n')
		end--;
	char *p = end;
	int count = 0;
	while (p > buf && count < n) {
		char *q = p;
		while (q > buf && q[-1] != '\n')
			q--;
		if (q == buf && start > 0)
			break; /* a cut line */
		count++;
		p = q > buf ? q - 1 : q;
		if (q == buf)
			break;
	}
	char *first = p == buf ? buf : p + 1;
	size_t keep = (size_t)(end - first);
	memmove(buf, first, keep);
	buf[keep] = '\0';
	for (size_t i = 0; i < keep; i++)
		if (buf[i] == '\n')
			buf[i] = '\0';
	return count;
}
