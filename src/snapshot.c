/* snapshot: copy, restore and remove (see snapshot.h). Files are cloned
 * with FICLONE where the filesystem shares extents, else copied in the
 * kernel with copy_file_range; hard links stay links; files and
 * directories keep their extended attributes (POSIX ACLs, file
 * capabilities, user.*), as cp -a does. */
#include "snapshot.h"
#include "log.h"
#include "state.h"
#include "volume.h"
#include "xattrs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* Both inside .volinit/, reached through state_open's descriptor. */
#define SNAPSHOT "snapshot"
#define SNAPSHOT_TMP "snapshot.tmp"

struct link_seen {
	dev_t dev;
	ino_t ino;
	char *path; /* relative to the destination root */
};

struct copy {
	int dstroot;
	struct link_seen *links;
	size_t nlinks, caplinks;
	unsigned labels_left; /* security labels the kernel chose (xattrs.h) */
	int proc;             /* /proc/self/fd usable: 1, not: 0, not known yet: -1 */
	char path[4096];      /* current destination path, relative */
};

static int open_dir_at(int dirfd, const char *name)
{
	return openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* Reads dirfd's entries through a new descriptor: a dup would share the
 * read position, and a directory read to its end once would look empty.
 * Returns NULL with errno on failure. */
static DIR *open_entries(int dirfd)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	DIR *d = fdopendir(fd);
	if (!d) {
		int err = errno;
		close(fd);
		errno = err;
	}
	return d;
}

/* The next entry's name, leaving out "." and "..", and .volinit when
 * skip_state; NULL at the end. */
static const char *next_entry(DIR *d, bool skip_state)
{
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		const char *n = e->d_name;
		if (strcmp(n, ".") != 0 && strcmp(n, "..") != 0 &&
		    !(skip_state && strcmp(n, VOLUME_STATE_DIR) == 0))
			return n;
	}
	return NULL;
}

static int copy_data(int in, int out, off_t size)
{
	if (ioctl(out, FICLONE, in) == 0)
		return 0;
	off_t left = size;
	while (left > 0) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)left, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		left -= n;
	}
	if (left == 0)
		return 0;
	/* EXDEV, ENOSYS, or a file that grew: plain copy of the rest. */
	char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return w < 0 ? errno : EIO;
			off += w;
		}
	}
	return 0;
}

/* Owner before mode (chown clears set-id bits and file capabilities),
 * extended attributes after both (an ACL and the mode share bits), times
 * last. from: the original, for its extended attributes. */
static int copy_meta(struct copy *c, int from, int fd, const struct stat *st)
{
	if (fchown(fd, st->st_uid, st->st_gid) != 0 && errno != EPERM)
		return errno;
	if (fchmod(fd, st->st_mode & 07777) != 0)
		return errno;
	int err = xattrs_copy(&(struct xnode){ .fd = from }, &(struct xnode){ .fd = fd },
			      &c->labels_left);
	if (err)
		return err;
	struct timespec t[2] = { st->st_atim, st->st_mtim };
	if (futimens(fd, t) != 0)
		return errno;
	return 0;
}

static const char *remember_link(struct copy *c, const struct stat *st)
{
	for (size_t i = 0; i < c->nlinks; i++)
		if (c->links[i].dev == st->st_dev && c->links[i].ino == st->st_ino)
			return c->links[i].path;
	if (c->nlinks == c->caplinks) {
		size_t cap = c->caplinks ? 2 * c->caplinks : 64;
		struct link_seen *l = realloc(c->links, cap * sizeof(*l));
		if (!l)
			return NULL;
		c->links = l;
		c->caplinks = cap;
	}
	char *p = strdup(c->path);
	if (p)
		c->links[c->nlinks++] = (struct link_seen){ st->st_dev, st->st_ino, p };
	return NULL;
}

static int copy_file(struct copy *c, int src, int dst, const char *name, const struct stat *st)
{
	if (st->st_nlink > 1) {
		const char *first = remember_link(c, st);
		if (first)
			return linkat(c->dstroot, first, dst, name, 0) == 0 ? 0 : errno;
	}
	int in = openat(src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return errno;
	int out = openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0) {
		int err = errno;
		close(in);
		return err;
	}
	int err = copy_data(in, out, st->st_size);
	if (!err)
		err = copy_meta(c, in, out, st);
	close(in);
	if (close(out) != 0 && !err)
		err = errno;
	return err;
}

/* A symlink's, FIFO's or device's extended attributes: such an inode has no
 * descriptor to use (opening a FIFO would block), so through its path below
 * /proc/self/fd, not followed. Without /proc they are not copied. */
static int copy_special_xattrs(struct copy *c, int src, int dst, const char *name)
{
	if (c->proc < 0)
		c->proc = access("/proc/self/fd", X_OK) == 0;
	if (!c->proc)
		return 0;
	char from[4200], to[4200];
	snprintf(from, sizeof(from), "/proc/self/fd/%d/%s", src, name);
	snprintf(to, sizeof(to), "/proc/self/fd/%d/%s", dst, name);
	return xattrs_copy(&(struct xnode){ .fd = -1, .path = from },
			   &(struct xnode){ .fd = -1, .path = to }, &c->labels_left);
}

static int copy_special(struct copy *c, int src, int dst, const char *name, const struct stat *st)
{
	if (S_ISLNK(st->st_mode)) {
		char target[4096];
		ssize_t n = readlinkat(src, name, target, sizeof(target) - 1);
		if (n < 0)
			return errno;
		target[n] = '\0';
		if (symlinkat(target, dst, name) != 0)
			return errno;
	} else if (mknodat(dst, name, st->st_mode, st->st_rdev) != 0) {
		return errno;
	}
	if (fchownat(dst, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) != 0 && errno != EPERM)
		return errno;
	if (!S_ISLNK(st->st_mode) && fchmodat(dst, name, st->st_mode & 07777, 0) != 0)
		return errno;
	int err = copy_special_xattrs(c, src, dst, name);
	if (err)
		return err;
	struct timespec t[2] = { st->st_atim, st->st_mtim };
	return utimensat(dst, name, t, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : errno;
}

static int copy_dir(struct copy *c, int src, int dst, bool skip_state)
{
	DIR *d = open_entries(src);
	if (!d)
		return errno;
	int err = 0;
	size_t base = strlen(c->path);
	const char *n;
	while (!err && (n = next_entry(d, skip_state)) != NULL) {
		if ((size_t)snprintf(c->path + base, sizeof(c->path) - base, "%s%s",
				     base ? "/" : "", n) >= sizeof(c->path) - base) {
			err = ENAMETOOLONG;
			break;
		}
		struct stat st;
		if (fstatat(src, n, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			err = errno;
		} else if (S_ISDIR(st.st_mode)) {
			int s2 = -1, d2 = -1;
			if (mkdirat(dst, n, 0700) != 0 || (s2 = open_dir_at(src, n)) < 0 ||
			    (d2 = open_dir_at(dst, n)) < 0)
				err = errno;
			else if (!(err = copy_dir(c, s2, d2, false)))
				err = copy_meta(c, s2, d2, &st);
			if (s2 >= 0)
				close(s2);
			if (d2 >= 0)
				close(d2);
		} else if (S_ISREG(st.st_mode)) {
			err = copy_file(c, src, dst, n, &st);
		} else {
			err = copy_special(c, src, dst, n, &st);
		}
		if (!err) /* on an error c->path names what failed */
			c->path[base] = '\0';
	}
	closedir(d);
	return err;
}

/* The tree, then the root directory's own owner, mode, attributes and times (the
 * snapshot directory carries the volume root's, so a restore puts them
 * back), then a sync of the whole filesystem: durable when it returns.
 * On an error, where gets the path (relative) it happened at. */
static int copy_volume(int src, int dst, bool skip_state, char *where, size_t len)
{
	struct copy c = { .dstroot = dst, .proc = -1 };
	struct stat root;
	int err = copy_dir(&c, src, dst, skip_state);
	for (size_t i = 0; i < c.nlinks; i++)
		free(c.links[i].path);
	free(c.links);
	if (!err && fstat(src, &root) != 0)
		err = errno;
	if (!err)
		err = copy_meta(&c, src, dst, &root);
	if (!err && syncfs(dst) != 0)
		err = errno;
	snprintf(where, len, "%s", err && c.path[0] ? c.path : ".");
	if (!err && c.labels_left)
		log_warn(NULL, "%u security label(s) could not be copied: those files and "
			       "directories have the label their new directory gave them",
			 c.labels_left);
	return err;
}

/* Where a clear_dir is, and the first thing it could not remove. */
struct clearing {
	char path[4096]; /* relative to the directory cleared */
	char failed[4096];
	int err;
};

static int note_failure(struct clearing *cl, int err)
{
	if (!cl->err) {
		cl->err = err;
		snprintf(cl->failed, sizeof(cl->failed), "%s", cl->path);
	}
	return err;
}

/* Removes everything below dirfd (but .volinit when skip_state), as much
 * as it can. Returns the first error (cl names its path), or 0. */
static int clear_dir(struct clearing *cl, int dirfd, bool skip_state)
{
	size_t base = strlen(cl->path);
	DIR *d = open_entries(dirfd);
	if (!d)
		return note_failure(cl, errno);
	int err = 0;
	const char *n;
	while ((n = next_entry(d, skip_state)) != NULL) {
		snprintf(cl->path + base, sizeof(cl->path) - base, "%s%s", base ? "/" : "", n);
		if (unlinkat(dirfd, n, 0) == 0)
			continue;
		int e = errno;
		if (e != EISDIR && e != EPERM) {
			err = err ? err : note_failure(cl, e);
			continue;
		}
		int sub = open_dir_at(dirfd, n);
		if (sub < 0) {
			/* EPERM on a file (immutable, say) is the error to tell */
			err = err ? err : note_failure(cl, errno == ENOTDIR ? e : errno);
			continue;
		}
		int e2 = clear_dir(cl, sub, false);
		close(sub);
		if (!e2 && unlinkat(dirfd, n, AT_REMOVEDIR) != 0)
			e2 = note_failure(cl, errno);
		err = err ? err : e2;
	}
	cl->path[base] = '\0';
	closedir(d);
	return err;
}

static void remove_tree_at(int voldirfd, const char *name)
{
	int fd = open_dir_at(voldirfd, name);
	if (fd < 0)
		return;
	struct clearing cl = { .err = 0 };
	clear_dir(&cl, fd, false);
	close(fd);
	unlinkat(voldirfd, name, AT_REMOVEDIR);
}

struct usage {
	unsigned long long bytes, inodes;
};

static void measure(int dirfd, bool skip_state, struct usage *u)
{
	DIR *d = open_entries(dirfd);
	if (!d)
		return;
	const char *n;
	while ((n = next_entry(d, skip_state)) != NULL) {
		struct stat st;
		if (fstatat(dirfd, n, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		u->inodes++;
		u->bytes += (unsigned long long)st.st_blocks * 512;
		if (S_ISDIR(st.st_mode)) {
			int sub = open_dir_at(dirfd, n);
			if (sub >= 0) {
				measure(sub, false, u);
				close(sub);
			}
		}
	}
	closedir(d);
}

int snapshot_take(const struct volume_conf *v, int voldirfd)
{
	struct usage need = { 0, 0 };
	measure(voldirfd, true, &need);
	struct statvfs fs;
	if (fstatvfs(voldirfd, &fs) == 0) {
		unsigned long long avail = (unsigned long long)fs.f_bavail * fs.f_frsize;
		bool inodes_ok = fs.f_files == 0 || fs.f_favail >= need.inodes + 16;
		if (avail < need.bytes + need.bytes / 64 + 65536 || !inodes_ok) {
			log_fatal(73, v->name,
				  "volume \"%s\" (%s): not enough free space for the snapshot: needs "
				  "%llu KiB and %llu inodes, has %llu KiB", v->name, v->path,
				  need.bytes / 1024, need.inodes, avail / 1024);
			log_hint(v->name, "nothing was changed; free space on the volume, or set "
					  "snapshot = false to migrate without a way back");
			return 73;
		}
	}
	int sfd = state_open(voldirfd, true);
	int dst = -1, err = sfd < 0 ? errno : 0;
	/* Left by a crash after a finished migration (no dirty marker): the
	 * volume is consistent, the old copy is of no use. */
	if (!err) {
		remove_tree_at(sfd, SNAPSHOT_TMP);
		remove_tree_at(sfd, SNAPSHOT);
	}
	if (!err && (mkdirat(sfd, SNAPSHOT_TMP, 0700) != 0 ||
		     (dst = open_dir_at(sfd, SNAPSHOT_TMP)) < 0))
		err = errno;
	/* Complete only once it is on disk: then the rename publishes it. */
	char where[4096] = ".volinit/" SNAPSHOT_TMP;
	if (!err)
		err = copy_volume(voldirfd, dst, true, where, sizeof(where));
	if (dst >= 0)
		close(dst);
	if (!err)
		snprintf(where, sizeof(where), ".volinit/%s", SNAPSHOT);
	if (!err && renameat(sfd, SNAPSHOT_TMP, sfd, SNAPSHOT) != 0)
		err = errno;
	if (!err && fsync(sfd) != 0)
		err = errno;
	if (err && sfd >= 0)
		remove_tree_at(sfd, SNAPSHOT_TMP);
	if (sfd >= 0)
		close(sfd);
	if (err) {
		log_fatal(73, v->name, "volume \"%s\" (%s): cannot take the snapshot: %s: %s",
			  v->name, v->path, where, strerror(err));
		if (err == EPERM)
			log_hint(v->name, "nothing on the volume was changed. A file capability is "
					  "copied only with CAP_SETFCAP; snapshot = false migrates "
					  "without a way back");
		else
			log_hint(v->name, "nothing on the volume was changed");
		return 73;
	}
	return 0;
}

int snapshot_open(int voldirfd)
{
	int sfd = state_open(voldirfd, false);
	if (sfd < 0)
		return -1;
	int fd = open_dir_at(sfd, SNAPSHOT);
	int err = errno;
	close(sfd);
	errno = err;
	return fd;
}

bool snapshot_exists(int voldirfd)
{
	struct stat st;
	int sfd = state_open(voldirfd, false);
	if (sfd < 0)
		return false;
	bool found = fstatat(sfd, SNAPSHOT, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
	close(sfd);
	return found;
}

int snapshot_restore(int voldirfd, char *where, size_t len)
{
	snprintf(where, len, ".volinit/snapshot");
	int sfd = state_open(voldirfd, false);
	int snap = sfd < 0 ? -1 : open_dir_at(sfd, SNAPSHOT);
	if (sfd >= 0)
		close(sfd);
	if (snap < 0)
		return errno;
	struct clearing cl = { .err = 0 };
	int err = clear_dir(&cl, voldirfd, true);
	if (err)
		snprintf(where, len, "%s", cl.failed[0] ? cl.failed : ".");
	if (!err)
		err = copy_volume(snap, voldirfd, false, where, len);
	close(snap);
	return err;
}

void snapshot_remove(int voldirfd)
{
	int sfd = state_open(voldirfd, false);
	if (sfd < 0)
		return;
	remove_tree_at(sfd, SNAPSHOT);
	remove_tree_at(sfd, SNAPSHOT_TMP);
	close(sfd);
}
