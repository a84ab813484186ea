/* state: PATH/.volinit/ (see state.h). */
#include "state.h"
#include "volume.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void state_own(int dirfd, const char *name)
{
	struct stat dir, st;
	if (geteuid() != 0 || fstat(dirfd, &dir) != 0)
		return;
	/* Looking is cheaper than a chown, which the file system must log. */
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_uid == dir.st_uid &&
	    st.st_gid == dir.st_gid)
		return;
	(void)!fchownat(dirfd, name, dir.st_uid, dir.st_gid, AT_SYMLINK_NOFOLLOW);
}

int state_open(int voldirfd, bool create)
{
	/* O_NOFOLLOW: a .volinit planted as a symlink must not lead volinit
	 * to read or write outside the volume. */
	int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	int fd = openat(voldirfd, VOLUME_STATE_DIR, flags);
	if (fd < 0 && errno == ENOENT && create) {
		if (mkdirat(voldirfd, VOLUME_STATE_DIR, 0700) == 0)
			state_own(voldirfd, VOLUME_STATE_DIR);
		else if (errno != EEXIST)
			return -1;
		fd = openat(voldirfd, VOLUME_STATE_DIR, flags);
	}
	struct stat st;
	/* Before volinit writes in it, it is volinit's alone again. */
	if (fd >= 0 && create && fstat(fd, &st) == 0 && (st.st_mode & 077))
		fchmod(fd, 0700);
	return fd;
}

int state_dirty_read(int voldirfd, char *detail, size_t len)
{
	int sfd = state_open(voldirfd, false);
	if (sfd < 0)
		return errno == ENOENT ? 0 : -1;
	int fd = openat(sfd, "dirty", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	close(sfd);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	ssize_t n = read(fd, detail, len - 1);
	close(fd);
	n = n < 0 ? 0 : n;
	detail[n] = '\0';
	/* First line only, and nothing that could break a log line. */
	detail[strcspn(detail, "\n")] = '\0';
	for (char *p = detail; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	return 1;
}

int state_dirty_write(int voldirfd, const char *json)
{
	int sfd = state_open(voldirfd, true);
	if (sfd < 0)
		return errno;
	int err = 0;
	int fd = openat(sfd, "dirty", O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = errno;
		close(sfd);
		return err;
	}
	state_own(sfd, "dirty");
	size_t len = strlen(json);
	if (write(fd, json, len) != (ssize_t)len)
		err = errno ? errno : EIO;
	if (!err && fsync(fd) != 0)
		err = errno;
	close(fd);
	if (!err && fsync(sfd) != 0)
		err = errno;
	close(sfd);
	return err;
}

int state_dirty_clear(int voldirfd)
{
	int sfd = state_open(voldirfd, false);
	if (sfd < 0)
		return errno == ENOENT ? 0 : errno;
	int err = 0;
	if (unlinkat(sfd, "dirty", 0) != 0 && errno != ENOENT)
		err = errno;
	if (!err && fsync(sfd) != 0)
		err = errno;
	close(sfd);
	return err;
}
