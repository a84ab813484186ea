/* version: strict reading and atomic writing of version files (version.h). */
#include "version.h"
#include "jbuf.h"
#include "volume.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

int version_parse(const char *buf, size_t len, int32_t *out)
{
	size_t i = 0;
	while (i < len && is_space(buf[i]))
		i++;
	size_t start = i;
	int64_t v = 0;
	while (i < len && buf[i] >= '0' && buf[i] <= '9') {
		v = v * 10 + (buf[i] - '0');
		if (v > INT32_MAX)
			return -1;
		i++;
	}
	if (i == start)
		return -1;
	while (i < len && is_space(buf[i]))
		i++;
	if (i != len)
		return -1;
	*out = (int32_t)v;
	return 0;
}

static void corrupt(struct version_read *res, const char *why, const unsigned char *data,
		    size_t n)
{
	struct jbuf b;
	jbuf_init(&b, res->detail, sizeof(res->detail));
	jbuf_puts(&b, why);
	if (data) {
		jbuf_puts(&b, ": \"");
		jbuf_escape_bytes(&b, data, n > 32 ? 32 : n);
		jbuf_puts(&b, n > 32 ? "\"..." : "\"");
	}
	res->status = VERSION_CORRUPT;
}

/* A version file with more than one link is corrupt: another name of the
 * same file could be one the app may not read, so its bytes are not shown. */
static void hard_linked(struct version_read *res, const struct stat *st)
{
	res->status = VERSION_CORRUPT;
	snprintf(res->detail, sizeof(res->detail),
		 "is hard-linked (%lu links), not a file of its own; its content is not shown",
		 (unsigned long)st->st_nlink);
}

static void read_in(int dirfd, const char *name, struct version_read *res)
{
	struct stat st;
	/* Look before opening: opening a FIFO or a device could block or have
	 * side effects, and a symlink could point anywhere. */
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		res->err = errno;
		res->status = errno == ENOENT ? VERSION_MISSING : VERSION_UNREADABLE;
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		res->status = VERSION_CORRUPT;
		snprintf(res->detail, sizeof(res->detail), "is %s, not a regular file",
			 volume_kind_name(st.st_mode));
		return;
	}
	if (st.st_nlink != 1) {
		hard_linked(res, &st);
		return;
	}
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		res->err = errno;
		if (errno == ELOOP) {
			corrupt(res, "is a symbolic link, not a regular file", NULL, 0);
			return;
		}
		res->status = errno == ENOENT ? VERSION_MISSING : VERSION_UNREADABLE;
		return;
	}
	/* Swapped for something else between the look and the open? */
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		corrupt(res, "is not a regular file", NULL, 0);
		return;
	}
	/* The same file under another name too, perhaps outside what the app
	 * may read: never shown (SPEC.md "Version file"). Checked on the
	 * descriptor, since a link may be made after the look. */
	if (st.st_nlink != 1) {
		close(fd);
		hard_linked(res, &st);
		return;
	}
	unsigned char buf[VERSION_FILE_MAX + 1];
	size_t len = 0;
	while (len < sizeof(buf)) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			res->err = errno;
			res->status = VERSION_UNREADABLE;
			close(fd);
			return;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (len > VERSION_FILE_MAX) {
		corrupt(res, "is longer than " VERSION_FILE_MAX_TEXT " bytes", buf, len);
		return;
	}
	if (len == 0) {
		corrupt(res, "is empty", NULL, 0);
		return;
	}
	if (version_parse((const char *)buf, len, &res->version) != 0) {
		corrupt(res, "is not a decimal integer from 0 to 2147483647", buf, len);
		return;
	}
	res->status = VERSION_OK;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		if (n == 0)
			return EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int write_in(int dirfd, const char *name, const char *text, mode_t mode)
{
	char tmp[300];
	if ((size_t)snprintf(tmp, sizeof(tmp), ".%s" VOLUME_TMP_INFIX "%ld", name,
			     (long)getpid()) >= sizeof(tmp))
		return ENAMETOOLONG;
	size_t len = strlen(text);

	unlinkat(dirfd, tmp, 0); /* left by a crashed volinit with our pid */
	int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return errno;
	int err = 0;
	struct stat dir;
	/* The app usually runs as the volume's owner and may rewrite the file. */
	if (fstat(dirfd, &dir) == 0 && geteuid() == 0)
		(void)!fchown(fd, dir.st_uid, dir.st_gid);
	err = write_all(fd, text, len);
	if (!err && fsync(fd) != 0)
		err = errno;
	if (close(fd) != 0 && !err)
		err = errno;
	if (!err && renameat(dirfd, tmp, dirfd, name) != 0)
		err = errno;
	if (err) {
		unlinkat(dirfd, tmp, 0);
		return err;
	}
	/* The rename is durable only once the directory is. */
	if (fsync(dirfd) != 0)
		return errno;
	return 0;
}

/* The directory holding a version file given as a relative path below the
 * volume (pgdata/PG_VERSION): opened one part at a time beneath dirfd with
 * O_NOFOLLOW|O_DIRECTORY, so a symlink or a non-directory on the way fails
 * (ELOOP, ENOTDIR) and nothing outside the volume is reached; config.c has
 * refused ".", ".." and empty parts. Returns a descriptor the caller closes,
 * or dirfd itself for a plain name, and *base the last part; -1 and errno. */
static int parent_at(int dirfd, const char *name, const char **base)
{
	const char *slash = strrchr(name, '/');
	*base = slash ? slash + 1 : name;
	if (!slash)
		return dirfd;
	int fd = dirfd;
	for (const char *p = name; p < slash;) {
		size_t n = strcspn(p, "/");
		char part[256];
		if (n == 0 || n >= sizeof(part)) {
			if (fd != dirfd)
				close(fd);
			errno = n ? ENAMETOOLONG : EINVAL;
			return -1;
		}
		memcpy(part, p, n);
		part[n] = '\0';
		int next = openat(fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		int err = errno;
		struct stat st;
		/* O_DIRECTORY reports a symlink as ENOTDIR: say which it is. */
		if (next < 0 && err == ENOTDIR && fstatat(fd, part, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(st.st_mode))
			err = ELOOP;
		if (fd != dirfd)
			close(fd);
		if (next < 0) {
			errno = err;
			return -1;
		}
		fd = next;
		p += n + 1;
	}
	return fd;
}

static void parent_close(int fd, int dirfd)
{
	if (fd != dirfd)
		close(fd);
}

void version_read_at(int dirfd, const char *name, struct version_read *res)
{
	memset(res, 0, sizeof(*res));
	const char *base;
	int pfd = parent_at(dirfd, name, &base);
	if (pfd < 0) {
		res->err = errno;
		if (errno == ELOOP || errno == ENOTDIR) {
			corrupt(res, errno == ELOOP ? "has a symbolic link in its path"
						    : "has a part of its path that is not a directory",
				NULL, 0);
			return;
		}
		res->status = errno == ENOENT ? VERSION_MISSING : VERSION_UNREADABLE;
		return;
	}
	read_in(pfd, base, res);
	parent_close(pfd, dirfd);
}

int version_write_at(int dirfd, const char *name, int32_t version)
{
	char text[16];
	snprintf(text, sizeof(text), "%d\n", (int)version);
	return version_write_file_at(dirfd, name, text, 0644);
}

int version_write_file_at(int dirfd, const char *name, const char *text, mode_t mode)
{
	const char *base;
	int pfd = parent_at(dirfd, name, &base);
	if (pfd < 0)
		return errno;
	int err = write_in(pfd, base, text, mode);
	parent_close(pfd, dirfd);
	return err;
}

void version_remove_tmp(int dirfd, const char *name)
{
	const char *base;
	int pfd = parent_at(dirfd, name, &base);
	if (pfd < 0)
		return;
	volume_remove_tmp(pfd, base);
	parent_close(pfd, dirfd);
}

int version_listed(int dirfd, const char *name)
{
	const char *base;
	int pfd = parent_at(dirfd, name, &base);
	if (pfd < 0)
		return errno == ENOENT ? 0 : -1;
	int rc = volume_lists(pfd, base);
	parent_close(pfd, dirfd);
	return rc;
}
