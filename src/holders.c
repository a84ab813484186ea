/* holders: PATH/.volinit/holders/ (see holders.h). */
#include "holders.h"
#include "jbuf.h"
#include "self.h"
#include "state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* .volinit/holders/, never through a symlink. */
static int open_holders_fd(int voldirfd, bool create)
{
	int sfd = state_open(voldirfd, false);
	if (sfd < 0)
		return -1;
	int fd = openat(sfd, "holders", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create) {
		bool made = mkdirat(sfd, "holders", 0700) == 0;
		if (made)
			state_own(sfd, "holders");
		if (made || errno == EEXIST)
			fd = openat(sfd, "holders", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	int err = errno;
	close(sfd);
	errno = err;
	return fd;
}

int holders_add(int voldirfd, struct holder *h)
{
	if (h->dirfd < 0) {
		h->dirfd = open_holders_fd(voldirfd, true);
		if (h->dirfd < 0)
			return errno;
		snprintf(h->name, sizeof(h->name), "%s-%ld", self_host(), self_pid());
	}
	char text[640], since[40];
	struct jbuf t;
	jbuf_init(&t, since, sizeof(since));
	jbuf_time(&t);
	/* Bounded fields: the line always fits (a long VOLINIT_IMAGE is cut),
	 * and it stays one line whatever the image holds. */
	int n = snprintf(text, sizeof(text), "host=%.64s pid=%ld since=%s image=%.400s", self_host(),
			 self_pid(), since, self_image());
	if (n < 0 || (size_t)n >= sizeof(text) - 1)
		n = (int)sizeof(text) - 2;
	for (int i = 0; i < n; i++)
		if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f)
			text[i] = '?';
	text[n++] = '\n';
	int fd = openat(h->dirfd, h->name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
			0600);
	if (fd < 0)
		return errno;
	state_own(h->dirfd, h->name);
	int err = write(fd, text, (size_t)n) == n ? 0 : EIO;
	close(fd);
	return err;
}

void holders_remove(struct holder *h)
{
	if (h->dirfd < 0)
		return;
	unlinkat(h->dirfd, h->name, 0);
	close(h->dirfd);
	h->dirfd = -1;
}

static DIR *open_holders(int voldirfd)
{
	int fd = open_holders_fd(voldirfd, false);
	if (fd < 0)
		return NULL;
	DIR *d = fdopendir(fd);
	if (!d)
		close(fd);
	return d;
}

void holders_clear(int voldirfd)
{
	DIR *d = open_holders(voldirfd);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
}

void holders_describe(int voldirfd, char *buf, size_t len)
{
	struct jbuf b;
	jbuf_init(&b, buf, len);
	DIR *d = open_holders(voldirfd);
	int count = 0;
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char text[256];
		int fd = openat(dirfd(d), e->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t n = read(fd, text, sizeof(text) - 1);
		close(fd);
		if (n <= 0)
			continue;
		text[n] = '\0';
		text[strcspn(text, "\n")] = '\0';
		jbuf_puts(&b, count++ ? "; " : "");
		jbuf_escape_bytes(&b, (const unsigned char *)text, strlen(text));
	}
	if (d)
		closedir(d);
	if (count == 0)
		jbuf_puts(&b, "an unknown process (no holders file)");
}
