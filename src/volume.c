/* volume: the volume directory itself (see volume.h). */
#include "volume.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int volume_open(const char *path)
{
	return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

int volume_is_empty(int dirfd, const char *version_base)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	int empty = 1;
	struct dirent *e;
	errno = 0;
	while ((e = readdir(d)) != NULL) {
		const char *n = e->d_name;
		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0 ||
		    strcmp(n, VOLUME_STATE_DIR) == 0 ||
		    /* mkfs.ext4 leaves it on every fresh block volume */
		    strcmp(n, "lost+found") == 0 ||
		    (version_base && e->d_type == DT_REG && volume_is_tmp_name(n, version_base)))
			continue;
		empty = 0;
		break;
	}
	if (!e && errno != 0)
		empty = -1;
	closedir(d);
	return empty;
}

bool volume_is_tmp_name(const char *name, const char *base)
{
	const char *p = name;
	if (base) {
		size_t n = strlen(base);
		if (name[0] != '.' || strncmp(name + 1, base, n) != 0)
			return false;
		p = name + 1 + n;
	} else {
		p = strstr(name, VOLUME_TMP_INFIX);
		if (!p || p == name)
			return false;
	}
	if (strncmp(p, VOLUME_TMP_INFIX, strlen(VOLUME_TMP_INFIX)) != 0)
		return false;
	p += strlen(VOLUME_TMP_INFIX);
	if (!*p)
		return false;
	for (; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

void volume_remove_tmp(int dirfd, const char *base)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (volume_is_tmp_name(e->d_name, base))
			unlinkat(dirfd, e->d_name, 0); /* a directory of that name: EISDIR, stays */
	closedir(d);
}

int volume_sync(int dirfd)
{
	return syncfs(dirfd) == 0 ? 0 : errno;
}

int volume_lists(int dirfd, const char *name)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	int found = 0;
	struct dirent *e;
	errno = 0;
	while ((e = readdir(d)) != NULL)
		found |= strcmp(e->d_name, name) == 0; /* on to the end: the whole listing */
	int err = errno;
	closedir(d);
	errno = err;
	return err ? -1 : found;
}

long long volume_fdinfo_mnt_id(int fd)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	int f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return -1;
	ssize_t n = read(f, buf, sizeof(buf) - 1);
	close(f);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	char *p = strstr(buf, "mnt_id:");
	if (!p)
		return -1;
	char *end;
	long long id = strtoll(p + 7, &end, 10);
	return end == p + 7 ? -1 : id;
}

/* Compares the directory's mount with its parent's, through descriptors:
 * nothing else in the mount table is looked at (a dead NFS mount elsewhere
 * cannot hang it) and the path is never resolved again. The kernel's
 * STATX_ATTR_MOUNT_ROOT first (5.8), else the mount IDs (statx
 * STATX_MNT_ID, 5.8; /proc/self/fdinfo before that), else st_dev, which
 * misses a bind mount within one filesystem. */
int volume_is_mountpoint_at(int dirfd)
{
	struct statx self, up;
	int flags = AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_DONT_SYNC;
	if (statx(dirfd, "", flags, STATX_INO | STATX_MNT_ID, &self) != 0)
		return -1;
	if (self.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)
		return (self.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
	int pfd = openat(dirfd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0)
		return -1;
	int rc = -1;
	if (statx(pfd, "", flags, STATX_INO | STATX_MNT_ID, &up) != 0)
		goto out;
	if (self.stx_dev_major == up.stx_dev_major && self.stx_dev_minor == up.stx_dev_minor &&
	    self.stx_ino == up.stx_ino) {
		rc = 1; /* ".." is itself: the root of the namespace, a mount */
		goto out;
	}
	if ((self.stx_mask & STATX_MNT_ID) && (up.stx_mask & STATX_MNT_ID)) {
		rc = self.stx_mnt_id != up.stx_mnt_id;
		goto out;
	}
	long long a = volume_fdinfo_mnt_id(dirfd), b = volume_fdinfo_mnt_id(pfd);
	if (a >= 0 && b >= 0)
		rc = a != b;
	else
		rc = self.stx_dev_major != up.stx_dev_major || self.stx_dev_minor != up.stx_dev_minor;
out:
	close(pfd);
	return rc;
}

int volume_is_mountpoint(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = volume_is_mountpoint_at(fd);
	int err = errno;
	close(fd);
	errno = err;
	return rc;
}

const char *volume_kind_name(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG: return "a regular file";
	case S_IFLNK: return "a symbolic link";
	case S_IFDIR: return "a directory";
	case S_IFIFO: return "a FIFO";
	case S_IFCHR: return "a character device";
	case S_IFBLK: return "a block device";
	case S_IFSOCK: return "a socket";
	default: return "not a regular file";
	}
}
