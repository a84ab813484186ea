/* window: .volinit/readers (see window.h). */
#include "window.h"
#include "config.h"
#include "state.h"
#include "version.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define READERS "readers"
#define RECORD_MAX 64

/* A decimal from 0 to VERSION_MAX at *p, no sign, no leading blank. */
static bool parse_number(const char **p, int32_t *out)
{
	const char *s = *p;
	long long v = 0;
	if (*s < '0' || *s > '9')
		return false;
	while (*s >= '0' && *s <= '9') {
		v = v * 10 + (*s++ - '0');
		if (v > VERSION_MAX)
			return false;
	}
	*out = (int32_t)v;
	*p = s;
	return true;
}

static bool parse_word(const char **p, const char *word)
{
	size_t n = strlen(word);
	if (strncmp(*p, word, n) != 0)
		return false;
	*p += n;
	return true;
}

/* "readers=R versions=FROM-TO", a newline after it or not, nothing else. */
static bool parse_record(const char *text, int32_t *readers, int32_t *from, int32_t *to)
{
	const char *p = text;
	return parse_word(&p, "readers=") && parse_number(&p, readers) &&
	       parse_word(&p, " versions=") && parse_number(&p, from) && parse_word(&p, "-") &&
	       parse_number(&p, to) && *from <= *to && (*p == '\0' || strcmp(p, "\n") == 0);
}

void window_read(int voldirfd, int32_t version, struct window *w)
{
	w->state = WINDOW_CLOSED;
	w->readers = version;
	w->detail[0] = '\0';
	int sfd = state_open(voldirfd, false);
	if (sfd < 0)
		return;
	struct stat st;
	int fd = state_openat(sfd, READERS, O_RDONLY, &st); /* never a FIFO, never followed */
	int err = errno;
	close(sfd);
	if (fd < 0 && err == ENOENT)
		return;
	w->state = WINDOW_UNREADABLE;
	char text[RECORD_MAX + 1], d[96];
	if (fd < 0) {
		snprintf(w->detail, sizeof(w->detail), "%s", err == ELOOP || err == EINVAL
			 ? "not a regular file" : strerror(err));
		return;
	}
	/* Only volinit's own file: one the app made and volinit took back
	 * would open a window the data may not allow. */
	if (!state_is_ours(&st)) {
		snprintf(w->detail, sizeof(w->detail), "%s", state_describe(&st, d, sizeof(d)));
		close(fd);
		return;
	}
	ssize_t n = read(fd, text, sizeof(text));
	close(fd);
	int32_t readers, from, to;
	if (n < 0 || n > RECORD_MAX || memchr(text, '\0', (size_t)n) ||
	    (text[n] = '\0', !parse_record(text, &readers, &from, &to))) {
		snprintf(w->detail, sizeof(w->detail), "not a record of volinit's");
		return;
	}
	if (version < from || version > to) {
		w->state = WINDOW_STALE;
		snprintf(w->detail, sizeof(w->detail), "recorded for versions %d to %d",
			 (int)from, (int)to);
		return;
	}
	w->state = WINDOW_SET;
	if (readers < version)
		w->readers = readers;
}

int window_record(int voldirfd, int32_t readers, int32_t from, int32_t to)
{
	int sfd = state_open(voldirfd, false);
	if (sfd < 0)
		return readers < 0 && errno == ENOENT ? 0 : errno; /* none to remove */
	int err = 0;
	if (readers >= 0) {
		char text[RECORD_MAX];
		snprintf(text, sizeof(text), "readers=%d versions=%d-%d\n", (int)readers, (int)from,
			 (int)to);
		err = version_write_file_at(sfd, READERS, text, 0600); /* .volinit/ files: 0600 */
	} else if (unlinkat(sfd, READERS, 0) == 0) {
		if (fsync(sfd) != 0)
			err = errno;
	} else if (errno != ENOENT) {
		err = errno;
	}
	close(sfd);
	return err;
}
