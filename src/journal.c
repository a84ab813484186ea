/* journal: the volume's event log (see journal.h). One write(2) per event
 * on an O_APPEND descriptor keeps concurrent writers' lines whole. */
#include "journal.h"
#include "jbuf.h"
#include "record.h"
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

/* The journal, to append to: a regular file with one link of volinit's
 * (opened without O_CREAT, then checked), or a fresh one (O_EXCL). Anything
 * else is left alone, with one warning, and volinit goes on without it. */
static int open_journal(int sfd, int voldirfd, const struct volume_conf *v, struct stat *st)
{
	for (int tries = 0; tries < 2; tries++) {
		int fd = state_openat(sfd, JOURNAL, O_WRONLY | O_APPEND, st);
		if (fd < 0 && errno == ENOENT) {
			fd = openat(sfd, JOURNAL, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW |
				    O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0600);
			if (fd < 0 && errno == EEXIST)
				continue; /* made meanwhile by another volinit: look again */
			if (fd >= 0 && fstat(fd, st) != 0) {
				close(fd);
				return -1;
			}
		}
		if (fd < 0 && errno != ELOOP && errno != EINVAL)
			return -1; /* read-only, say: nothing to warn about */
		if (fd >= 0 && state_is_ours(st))
			return fd;
		if (fd >= 0)
			close(fd);
		char d[96];
		state_warn_once(v->name, voldirfd, st, JOURNAL " is %s: left alone; going on "
				"without the journal", state_describe(st, d, sizeof(d)));
		return -1;
	}
	return -1;
}

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
	struct stat st;
	int fd = open_journal(sfd, voldirfd, v, &st);
	if (fd >= 0 && st.st_size + (off_t)b.len > JOURNAL_ROTATE_BYTES) {
		/* Two writers may both rotate; the second renames a short new
		 * file over .1, losing at most a few lines of history. */
		close(fd);
		fd = -1;
		/* The old name is replaced only when it is volinit's own: a
		 * hard link there keeps its link, and the journal is left. */
		struct stat old;
		if (fstatat(sfd, JOURNAL ".1", &old, AT_SYMLINK_NOFOLLOW) == 0 &&
		    !state_is_ours(&old)) {
			char d[96];
			state_warn_once(v->name, voldirfd, &old, JOURNAL ".1 is %s: left alone; "
					"going on without the journal", state_describe(&old, d,
										sizeof(d)));
		} else if (renameat(sfd, JOURNAL, sfd, JOURNAL ".1") == 0 || errno == ENOENT) {
			fd = open_journal(sfd, voldirfd, v, &st);
		}
	}
	close(sfd);
	if (fd < 0)
		return;
	(void)!write(fd, line, b.len);
	close(fd);
}

/* A journal file to read: volinit's name, no symlink, one link (a hard
 * link is someone else's file, not a journal to show). */
static int open_readable(int sfd, const char *name, struct stat *st)
{
	int fd = state_openat(sfd, name, O_RDONLY, st);
	if (fd >= 0 && st->st_nlink != 1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads the last want bytes of fd (size bytes long) into buf; *cut says
 * whether the file has more before them. Returns the bytes read. */
static size_t read_end(int fd, off_t size, char *buf, size_t want, bool *cut)
{
	off_t start = size > (off_t)want ? size - (off_t)want : 0;
	size_t len = (size_t)(size - start), got = 0;
	*cut = start > 0;
	while (got < len) {
		ssize_t r = pread(fd, buf + got, len - got, start + (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

int journal_read_tail(int voldirfd, struct journal_record *out, int n)
{
	int sfd = state_open(voldirfd, false);
	if (sfd < 0 || n <= 0) {
		if (sfd >= 0)
			close(sfd);
		return 0;
	}
	struct stat st;
	int fd = open_readable(sfd, JOURNAL, &st);
	close(sfd);
	if (fd < 0)
		return 0;
	/* Enough for n whole lines of the longest length parsed. */
	static char buf[JOURNAL_TAIL_LINES * (RECORD_MAX + 1)];
	size_t want = (size_t)n * (RECORD_MAX + 1);
	if (want > sizeof(buf))
		want = sizeof(buf);
	bool before; /* the file has more before what was read */
	size_t got = read_end(fd, st.st_size, buf, want, &before);
	close(fd);
	/* The last n lines, back from the end; a line that began before
	 * what was read is longer than any record: unreadable. */
	size_t end = got, count = 0;
	size_t begins[JOURNAL_TAIL_LINES], ends[JOURNAL_TAIL_LINES];
	bool cut[JOURNAL_TAIL_LINES];
	while (end > 0 && count < (size_t)n && count < JOURNAL_TAIL_LINES) {
		if (buf[end - 1] == '\n') {
			end--;
			continue; /* an empty line, or the last line's end */
		}
		size_t b = end;
		while (b > 0 && buf[b - 1] != '\n')
			b--;
		begins[count] = b;
		ends[count] = end;
		cut[count] = b == 0 && before;
		count++;
		end = b;
	}
	for (size_t i = 0; i < count; i++) {
		size_t k = count - 1 - i; /* oldest first */
		struct journal_record *r = &out[i];
		if (cut[k])
			record_parse_journal("", 0, r);
		else
			record_parse_journal(buf + begins[k], ends[k] - begins[k], r);
	}
	return (int)count;
}

/* The window of journal_read_recent into buf (one byte more than the
 * window, for the newline that may end the old file). Returns its length;
 * *cut: the window's first line may have begun before it. */
static size_t read_recent(int voldirfd, char *buf, bool *cut)
{
	*cut = false;
	int sfd = state_open(voldirfd, false);
	if (sfd < 0)
		return 0;
	struct stat st, old;
	int cur = open_readable(sfd, JOURNAL, &st);
	size_t cur_len = cur < 0 ? 0 : st.st_size > JOURNAL_RECENT_BYTES ? JOURNAL_RECENT_BYTES
									 : (size_t)st.st_size;
	size_t used = 0;
	int ofd = cur_len < JOURNAL_RECENT_BYTES ? open_readable(sfd, JOURNAL ".1", &old) : -1;
	close(sfd);
	if (ofd >= 0) {
		used = read_end(ofd, old.st_size, buf, JOURNAL_RECENT_BYTES - cur_len, cut);
		close(ofd);
		if (used > 0 && buf[used - 1] != '\n')
			buf[used++] = '\n'; /* its torn last line stays one line */
	}
	if (cur >= 0) {
		bool cur_cut;
		size_t got = read_end(cur, st.st_size, buf + used, cur_len, &cur_cut);
		close(cur);
		if (used == 0)
			*cut = cur_cut;
		used += got;
	}
	return used;
}

int journal_read_recent(int voldirfd, void (*fn)(const struct journal_record *r, void *ctx),
			void *ctx)
{
	static char buf[JOURNAL_RECENT_BYTES + 1];
	static struct journal_record r;
	bool cut = false;
	size_t len = voldirfd >= 0 ? read_recent(voldirfd, buf, &cut) : 0, at = 0;
	int n = 0;
	if (cut) {
		while (at < len && buf[at] != '\n')
			at++;
	}
	while (at < len) {
		size_t end = at;
		while (end < len && buf[end] != '\n')
			end++;
		if (end > at) {
			record_parse_journal(buf + at, end - at, &r);
			fn(&r, ctx);
			n++;
		}
		at = end + 1;
	}
	return n;
}
