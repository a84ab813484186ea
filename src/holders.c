/* holders: PATH/.volinit/holders/ (see holders.h). */
#include "holders.h"
#include "jbuf.h"
#include "state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void our_name(char *buf, size_t len)
{
	char host[65] = "unknown";
	gethostname(host, sizeof(host) - 1);
	snprintf(buf, len, "%s-%ld", host, (long)getpid());
}

/* .volinit/holders/, never through a symlink. */
static int open_holders_fd(int voldirfd, bool create)
{
	int sfd = state_open(voldirfd, false);
	if (sfd < 0)
		return -1;
	if (create && mkdirat(sfd, "holders", 0700) == 0)
		state_own(sfd, "holders");
	else if (create && errno != EEXIST) {
		close(sfd);
		return -1;
	}
	int fd = openat(sfd, "holders", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	close(sfd);
	return fd;
}

int holders_add(int voldirfd)
{
	int hfd = open_holders_fd(voldirfd, true);
	if (hfd < 0)
		return errno;
	char path[128], host[65] = "unknown", text[512], since[40];
	gethostname(host, sizeof(host) - 1);
	our_name(path, sizeof(path));
	struct jbuf t;
	jbuf_init(&t, since, sizeof(since));
	jbuf_time(&t);
	const char *image = getenv("VOLINIT_IMAGE");
	int n = snprintf(text, sizeof(text), "host=%s pid=%ld since=%s image=%s\n", host,
			 (long)getpid(), since, image ? image : "");
	int fd = openat(hfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd >= 0)
		state_own(hfd, path);
	close(hfd);
	if (fd < 0)
		return errno;
	int err = write(fd, text, (size_t)n) == n ? 0 : EIO;
	close(fd);
	return err;
}

void holders_remove(int voldirfd)
{
	char path[128];
	our_name(path, sizeof(path));
	int hfd = open_holders_fd(voldirfd, false);
	if (hfd >= 0) {
		unlinkat(hfd, path, 0);
		close(hfd);
	}
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
