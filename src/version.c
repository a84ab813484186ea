/* version: strict reading and atomic writing of version files (version.h). */
#include "version.h"
#include "jbuf.h"

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

static const char *file_kind(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFLNK: return "a symbolic link";
	case S_IFDIR: return "a directory";
	case S_IFIFO: return "a FIFO";
	case S_IFCHR: return "a character device";
	case S_IFBLK: return "a block device";
	case S_IFSOCK: return "a socket";
	default: return "not a regular file";
	}
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

void version_read_at(int dirfd, const char *name, struct version_read *res)
{
	memset(res, 0, sizeof(*res));
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
			 file_kind(st.st_mode));
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

int version_write_at(int dirfd, const char *name, int32_t version)
{
	char tmp[300], text[16];
	if ((size_t)snprintf(tmp, sizeof(tmp), ".%s.volinit-tmp.%ld", name, (long)getpid()) >=
	    sizeof(tmp))
		return ENAMETOOLONG;
	int len = snprintf(text, sizeof(text), "%d\n", (int)version);

	unlinkat(dirfd, tmp, 0); /* left by a crashed volinit with our pid */
	int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno;
	int err = 0;
	struct stat dir;
	/* The app usually runs as the volume's owner and may rewrite the file. */
	if (fstat(dirfd, &dir) == 0 && geteuid() == 0)
		(void)!fchown(fd, dir.st_uid, dir.st_gid);
	err = write_all(fd, text, (size_t)len);
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
