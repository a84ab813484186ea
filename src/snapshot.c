/* snapshot: copy, restore, clear and remove (see snapshot.h), all on the
 * one tree walk of walk.h. Files are cloned with FICLONE where the
 * filesystem shares extents, else their data extents are copied in the
 * kernel (copy_file_range) and the holes left holes; hard links stay
 * links; files and directories keep their extended attributes (POSIX
 * ACLs, file capabilities, user.*), as cp -a does. Every inode is worked
 * on through a descriptor checked with fstat, never through a name
 * resolved a second time: the volume may change under the walk. */
#include "snapshot.h"
#include "log.h"
#include "signals.h"
#include "state.h"
#include "volume.h"
#include "walk.h"
#include "xattrs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* All inside .volinit/, reached through state_open's descriptor. */
#define SNAPSHOT "snapshot"
#define SNAPSHOT_TMP "snapshot.tmp"
#define ASIDE "snapshot.del."

#ifndef FUSE_SUPER_MAGIC
#define FUSE_SUPER_MAGIC 0x65735546
#endif

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

/* First copies of hard-linked files held open to link the others to: as
 * many as the descriptor limit leaves beside the walk's own (two trees)
 * and LINK_FDS_SPARE more, at most LINK_FDS_MAX; past that many, re-reached
 * from the destination root and checked by inode, at an open per path
 * component. */
#define LINK_FDS_SPARE 64
#define LINK_FDS_MAX 65536

static size_t link_fds(void)
{
	static size_t max;
	if (max == 0) {
		struct rlimit rl;
		rlim_t used = 2 * WALK_MAX_FDS + LINK_FDS_SPARE;
		rlim_t cur = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? rl.rlim_cur : 1024;
		rlim_t n = cur > used + 16 ? cur - used : 16;
		max = n > LINK_FDS_MAX ? LINK_FDS_MAX : (size_t)n;
	}
	return max;
}

/* A stop signal (TERM, INT, QUIT) ends a walk that may stop (the snapshot,
 * which changes nothing on the volume): looked for every STOP_EVERY
 * entries, a signal number in sig, the walk ended with EINTR. */
#define STOP_EVERY 64

struct stop {
	bool may;
	unsigned n;
	int sig;
};

static int stop_asked(struct stop *s)
{
	if (!s->may || ++s->n % STOP_EVERY != 0)
		return 0;
	s->sig = signals_take_stop();
	return s->sig ? EINTR : 0;
}

struct copy {
	struct walk_links links;
	int dstroot;
	unsigned labels_left; /* security labels the kernel chose (xattrs.h) */
	int proc;             /* /proc/self/fd usable: 1, not: 0, not known yet: -1 */
	int clone;            /* FICLONE works: 1, does not: 0, not known yet: -1 */
	bool blocks_unknown;  /* st_blocks says nothing of holes (FUSE: MooseFS counts the size) */
	bool into_volume;     /* a restore: what is kept there (mounts) stays */
	struct stop stop;
};

static void proc_fd(char *buf, size_t len, int fd)
{
	snprintf(buf, len, "/proc/self/fd/%d", fd);
}

static bool have_proc(struct copy *c)
{
	if (c->proc < 0)
		c->proc = access("/proc/self/fd", X_OK) == 0;
	return c->proc;
}

static bool same_inode(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* An open of a name that found a symlink, a mount or another type where
 * the walk saw something else: the entry was swapped. */
static int swapped(int err)
{
	return err == ELOOP || err == EXDEV || err == ENOTDIR || err == EISDIR ? ESTALE : err;
}

/* Opens what the walk saw as e (a regular file: O_RDONLY|O_NONBLOCK, so
 * that a FIFO swapped in cannot block; else O_PATH) and checks it is that
 * inode. Returns the descriptor or -1 with errno (ESTALE: swapped). */
static int open_seen(const struct walk_entry *e)
{
	bool reg = S_ISREG(e->st->st_mode);
	int fd = walk_open(e->parent, e->name, reg ? O_RDONLY | O_NONBLOCK | O_NOCTTY : O_PATH);
	if (fd < 0) {
		errno = swapped(errno);
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !same_inode(&st, e->st) ||
	    (st.st_mode & S_IFMT) != (e->st->st_mode & S_IFMT)) {
		close(fd);
		errno = ESTALE;
		return -1;
	}
	return fd;
}

/* Checks that fd is what volinit has just created as type: that type,
 * volinit's, one link. Another inode swapped in under the name fails. */
static int check_fresh(int fd, mode_t type, struct stat *st)
{
	if (fstat(fd, st) != 0)
		return errno;
	static uid_t self = (uid_t)-1;
	if (self == (uid_t)-1)
		self = geteuid();
	if ((st->st_mode & S_IFMT) != type || st->st_uid != self ||
	    (type != S_IFDIR && st->st_nlink != 1))
		return ESTALE;
	return 0;
}

/* name in dir exists where a restore creates: a mount the clear kept
 * (WALK_SKIP for a directory, WALK_KEEP otherwise), or, for a directory
 * the clear kept because a mount is below it, that directory (*fd). */
static int existing(struct copy *c, struct walk_entry *e, int *fd)
{
	*fd = -1;
	if (!c->into_volume)
		return EEXIST;
	bool dir = S_ISDIR(e->st->st_mode);
	int f = walk_open(e->dst_parent, e->name, dir ? O_RDONLY | O_DIRECTORY : O_PATH);
	if (f < 0)
		return errno == EXDEV ? (dir ? WALK_SKIP : WALK_KEEP) : dir ? swapped(errno) : EEXIST;
	if (walk_fd_is_mount(f)) {
		close(f);
		return dir ? WALK_SKIP : WALK_KEEP;
	}
	if (!dir) {
		close(f);
		return EEXIST;
	}
	if (fstat(f, &e->dst_st) != 0) {
		int err = errno;
		close(f);
		return err;
	}
	*fd = f;
	return 0;
}

static bool all_zero(const char *buf, size_t n)
{
	return n == 0 || (buf[0] == 0 && memcmp(buf, buf + 1, n - 1) == 0);
}

/* Bytes [off, end) of in to the same offsets of out, in the kernel where
 * it can (copy_file_range), else by read and write: where the kernel
 * refuses it (EXDEV, ENOSYS, EINVAL, EOPNOTSUPP: FUSE and network
 * filesystems without it) or stops short of end (it answers 0 where it
 * cannot copy, which read then tells from an end of file). sparse: read
 * and write only, and a chunk of zeros read is not written, so that it
 * stays a hole (the caller sets the size): for a file with holes that the
 * filesystem cannot locate (no SEEK_DATA). */
static int copy_range(int in, int out, off_t off, off_t end, bool sparse)
{
	bool kernel = !sparse;
	static char buf[65536];
	while (off < end) {
		ssize_t n;
		if (kernel) {
			off64_t a = off, b = off;
			n = copy_file_range(in, &a, out, &b, (size_t)(end - off), 0);
			if ((n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL ||
				       errno == EOPNOTSUPP)) || n == 0) {
				kernel = false;
				continue;
			}
		} else {
			size_t want = (size_t)(end - off) < sizeof(buf) ? (size_t)(end - off) : sizeof(buf);
			n = pread(in, buf, want, off);
			for (ssize_t w = 0; n > 0 && w < n && !(sparse && all_zero(buf, (size_t)n));) {
				ssize_t k = pwrite(out, buf + w, (size_t)(n - w), off + w);
				if (k < 0 && errno == EINTR)
					continue;
				if (k <= 0)
					return k < 0 ? errno : EIO;
				w += k;
			}
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		if (n == 0)
			break; /* it shrank meanwhile */
		off += n;
	}
	return 0;
}

/* FICLONE where it works (any error: not on this filesystem, copied);
 * else only the data extents (SEEK_DATA, SEEK_HOLE) of a file with holes
 * (by its blocks; on FUSE, whose drivers may count the size as blocks,
 * any file), which stay holes. Where the filesystem cannot say where the holes are
 * (SEEK_DATA refused; one extent of data said to cover a file whose blocks
 * do not, as the kernel's generic llseek answers; an extent that does not
 * end after it begins), the file is read whole and its zeros left holes. */
static int copy_data(struct copy *c, int in, int out, const struct stat *st)
{
	if (c->clone != 0) {
		if (ioctl(out, FICLONE, in) == 0) {
			c->clone = 1;
			return 0;
		}
		if (c->clone < 0)
			c->clone = 0; /* one filesystem: it will not work for the next file either */
	}
	off_t size = st->st_size;
	if (size == 0)
		return 0;
	if ((off_t)st->st_blocks * 512 >= size && !c->blocks_unknown)
		return copy_range(in, out, 0, size, false);
	off_t off = 0;
	int err = 0;
	while (!err && off < size) {
		off_t data = lseek(in, off, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			break; /* holes to the end */
		if (data < 0 && errno != EINVAL && errno != EOPNOTSUPP)
			return errno;
		off_t hole = data < 0 ? size : lseek(in, data, SEEK_HOLE);
		if (hole < 0)
			return errno;
		if (hole > size)
			hole = size;
		if (data < 0 || hole <= data || (off == 0 && data == 0 && hole == size)) {
			err = copy_range(in, out, 0, size, true);
			break;
		}
		if (data >= size)
			break;
		err = copy_range(in, out, data, hole, false);
		off = hole;
	}
	if (!err && ftruncate(out, size) != 0)
		err = errno;
	return err;
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

/* The same for an O_PATH descriptor (a symlink, FIFO, socket, device),
 * which fchown, fchmod and futimens do not take. */
static int copy_meta_path(struct copy *c, int from, int fd, const struct stat *st)
{
	char f[32], t[32];
	proc_fd(f, sizeof(f), from);
	proc_fd(t, sizeof(t), fd);
	if (fchownat(fd, "", st->st_uid, st->st_gid, AT_EMPTY_PATH) != 0 && errno != EPERM)
		return errno;
	if (!S_ISLNK(st->st_mode) && syscall(SYS_fchmodat2, fd, "", st->st_mode & 07777,
					     AT_EMPTY_PATH) != 0) {
		if (errno != ENOSYS && errno != EINVAL)
			return errno;
		if (!have_proc(c) || chmod(t, st->st_mode & 07777) != 0)
			return have_proc(c) ? errno : ENOSYS;
	}
	if (have_proc(c)) {
		int err = xattrs_copy(&(struct xnode){ .fd = -1, .path = f },
				      &(struct xnode){ .fd = -1, .path = t }, &c->labels_left);
		if (err)
			return err;
	}
	struct timespec ts[2] = { st->st_atim, st->st_mtim };
	if (utimensat(fd, "", ts, AT_EMPTY_PATH) != 0) {
		if (errno != EINVAL || !have_proc(c) || utimensat(AT_FDCWD, t, ts, 0) != 0)
			return errno;
	}
	return 0;
}

/* A link to fd's inode as name in dir: through the descriptor itself
 * (needs CAP_DAC_READ_SEARCH), else through its /proc/self/fd link. */
static int link_fd(struct copy *c, int fd, int dir, const char *name)
{
	if (linkat(fd, "", dir, name, AT_EMPTY_PATH) == 0)
		return 0;
	if (errno == EEXIST || !have_proc(c))
		return errno;
	char p[32];
	proc_fd(p, sizeof(p), fd);
	return linkat(AT_FDCWD, p, dir, name, AT_SYMLINK_FOLLOW) == 0 ? 0 : errno;
}

/* The first copy of a hard-linked file, whose descriptor was not kept:
 * reached again from the destination root beneath it, component by
 * component, no symlink followed, and checked to be that inode. */
static int reach_first(struct copy *c, const struct walk_link *l)
{
	char *p = strdup(l->path);
	if (!p) {
		errno = ENOMEM;
		return -1;
	}
	int dir = c->dstroot, fd = -1;
	char *save = NULL;
	for (char *part = strtok_r(p, "/", &save); part; part = strtok_r(NULL, "/", &save)) {
		bool last = save == NULL || *save == '\0';
		fd = walk_open(dir, part, last ? O_PATH : O_PATH | O_DIRECTORY);
		if (dir != c->dstroot)
			close(dir);
		if (fd < 0)
			break;
		dir = fd;
	}
	free(p);
	struct stat st;
	if (fd >= 0 && (fstat(fd, &st) != 0 || st.st_dev != l->ddev || st.st_ino != l->dino)) {
		close(fd);
		errno = ESTALE;
		return -1;
	}
	return fd;
}

/* The second and later links of a file copied already. */
static int link_again(struct copy *c, struct walk_link *l, struct walk_entry *e)
{
	int fd = l->fd >= 0 ? l->fd : reach_first(c, l);
	if (fd < 0)
		return swapped(errno);
	int err = link_fd(c, fd, e->dst_parent, e->name);
	if (fd != l->fd)
		close(fd);
	if (err == EEXIST) {
		int d;
		err = existing(c, e, &d);
	}
	if (!err && --l->left == 0)
		walk_links_drop(&c->links, l);
	return err;
}

/* Keeps the first copy of a hard-linked file (out) to link the others to:
 * its descriptor while few are held, else its path and inode. Returns
 * true when it took out. */
static bool remember_first(struct copy *c, struct walk_link *l, int out, const char *path)
{
	struct stat st;
	if (fstat(out, &st) != 0)
		return false;
	l->ddev = st.st_dev;
	l->dino = st.st_ino;
	if (c->links.fds < link_fds()) {
		l->fd = out;
		c->links.fds++;
		return true;
	}
	l->path = strdup(path); /* without it, later links become copies */
	return false;
}

static int copy_file(struct copy *c, struct walk_entry *e)
{
	const struct stat *st = e->st;
	struct walk_link *l = NULL;
	if (st->st_nlink > 1) {
		bool added;
		l = walk_links_get(&c->links, st->st_dev, st->st_ino, &added);
		if (!l)
			return ENOMEM;
		if (!added && (l->fd >= 0 || l->path))
			return link_again(c, l, e);
		l->left = st->st_nlink - 1;
	}
	int in = open_seen(e);
	if (in < 0)
		return errno;
	int out = openat(e->dst_parent, e->name,
			 O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0) {
		int err = errno, d;
		close(in);
		return err == EEXIST ? existing(c, e, &d) : err;
	}
	/* O_CREAT|O_EXCL made it: out is a new file of volinit's, whatever
	 * the name leads to later. */
	int err = copy_data(c, in, out, st);
	if (!err)
		err = copy_meta(c, in, out, st);
	close(in);
	if (!err && l && remember_first(c, l, out, e->path))
		return 0;
	if (close(out) != 0 && !err)
		err = errno;
	return err;
}

/* A symlink, FIFO, socket or device: made anew, then opened O_PATH (never
 * for reading or writing, which could block) and checked to be the inode
 * just made before its owner, mode, attributes and times are set. */
static int copy_special(struct copy *c, struct walk_entry *e)
{
	const struct stat *st = e->st;
	mode_t type = st->st_mode & S_IFMT;
	int from = open_seen(e);
	if (from < 0)
		return errno;
	int err = 0;
	if (type == S_IFLNK) {
		char target[4097];
		ssize_t n = readlinkat(from, "", target, sizeof(target) - 1);
		if (n < 0)
			err = errno;
		else if ((target[n] = '\0', symlinkat(target, e->dst_parent, e->name)) != 0)
			err = errno;
	} else if (mknodat(e->dst_parent, e->name, type | 0600, st->st_rdev) != 0) {
		err = errno;
	}
	if (err == EEXIST) {
		int d;
		close(from);
		return existing(c, e, &d);
	}
	int fd = err ? -1 : walk_open(e->dst_parent, e->name, O_PATH);
	if (!err && fd < 0)
		err = swapped(errno);
	struct stat fresh;
	if (!err)
		err = check_fresh(fd, type, &fresh);
	if (!err && (type == S_IFCHR || type == S_IFBLK) && fresh.st_rdev != st->st_rdev)
		err = ESTALE;
	if (!err)
		err = copy_meta_path(c, from, fd, st);
	if (fd >= 0)
		close(fd);
	close(from);
	return err;
}

static int make_dir(struct copy *c, struct walk_entry *e)
{
	if (mkdirat(e->dst_parent, e->name, 0700) != 0) {
		if (errno != EEXIST)
			return errno;
		return existing(c, e, &e->dst);
	}
	int fd = walk_open(e->dst_parent, e->name, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return swapped(errno);
	int err = check_fresh(fd, S_IFDIR, &e->dst_st);
	if (err) {
		close(fd);
		return err;
	}
	e->dst = fd;
	return 0;
}

static int copy_step(void *ctx, enum walk_event ev, struct walk_entry *e)
{
	struct copy *c = ctx;
	int err = ev == WALK_LEAVE ? 0 : stop_asked(&c->stop);
	if (err)
		return err;
	switch (ev) {
	case WALK_MOUNT:
		return 0;
	case WALK_ENTER:
		return make_dir(c, e);
	case WALK_LEAVE:
		return copy_meta(c, e->fd, e->dst, e->st);
	case WALK_FILE:
		return S_ISREG(e->st->st_mode) ? copy_file(c, e) : copy_special(c, e);
	}
	return 0;
}

/* The tree (state: volinit's state directory, left out; see walk_tree),
 * then the root directory's own owner, mode, attributes and times (the
 * snapshot directory carries the volume root's, so a restore puts them
 * back), then a sync of the whole filesystem: durable when it returns. On
 * an error, where gets the path (relative) it happened at. stop: NULL, or
 * where a stop signal that ended the copy (EINTR) is put. */
static int copy_volume(int src, int dst, const struct stat *state, bool into_volume,
		       int *stop, char *where, size_t len)
{
	struct statfs fs;
	struct copy c = { .dstroot = dst, .proc = -1, .clone = -1, .into_volume = into_volume,
			  .blocks_unknown = fstatfs(src, &fs) == 0 && fs.f_type == FUSE_SUPER_MAGIC,
			  .stop = { .may = stop != NULL } };
	snprintf(where, len, ".");
	int err = walk_tree(src, dst, state, copy_step, &c, where, len);
	if (stop)
		*stop = c.stop.sig;
	walk_links_free(&c.links);
	struct stat root;
	if (!err && fstat(src, &root) != 0)
		err = errno;
	if (!err && (err = copy_meta(&c, src, dst, &root)) != 0)
		snprintf(where, len, ".");
	if (!err && syncfs(dst) != 0)
		err = errno;
	if (!err && c.labels_left)
		log_warn(NULL, "%u security label(s) could not be copied: those files and "
			       "directories have the label their new directory gave them",
			 c.labels_left);
	return err;
}

/* Removing a tree: the first thing that could not be removed. */
struct clearing {
	char failed[4096];
	int err;
	struct walk_list *mounts;
};

static int clear_failed(struct clearing *cl, const char *path, int err)
{
	if (!cl->err) {
		cl->err = err;
		snprintf(cl->failed, sizeof(cl->failed), "%s", path);
	}
	return WALK_KEEP; /* as much as it can: on with the rest */
}

/* Depth first: each entry removed in the directory the walk holds, a
 * directory once it is empty; a mount and the directories above it stay. */
static int clear_step(void *ctx, enum walk_event ev, struct walk_entry *e)
{
	struct clearing *cl = ctx;
	switch (ev) {
	case WALK_MOUNT:
		return cl->mounts ? walk_list_add(cl->mounts, e->path) : 0;
	case WALK_ENTER:
		return 0;
	case WALK_LEAVE:
		if (e->kept)
			return 0;
		if (unlinkat(e->parent, e->name, AT_REMOVEDIR) == 0 || errno == ENOENT)
			return 0;
		return clear_failed(cl, e->path, errno);
	case WALK_FILE:
		if (unlinkat(e->parent, e->name, 0) == 0 || errno == ENOENT)
			return 0;
		return clear_failed(cl, e->path, errno);
	}
	return 0;
}

/* Removes everything below dirfd (but volinit's state, as walk_tree) that
 * is not a mount or above one. Returns the first error (failed names it). */
static int clear_tree(int dirfd, const struct stat *state, struct clearing *cl)
{
	char where[4096];
	int err = walk_tree(dirfd, -1, state, clear_step, cl, where, sizeof(where));
	if (err && !cl->err) {
		cl->err = err;
		snprintf(cl->failed, sizeof(cl->failed), "%s", where);
	}
	return cl->err;
}

static void remove_tree_at(int sfd, const char *name)
{
	int fd = walk_open(sfd, name, O_RDONLY | O_DIRECTORY);
	if (fd < 0) {
		if (errno == ENOTDIR || errno == ELOOP)
			unlinkat(sfd, name, 0);
		return;
	}
	struct clearing cl = { .err = 0 };
	clear_tree(fd, NULL, &cl);
	close(fd);
	unlinkat(sfd, name, AT_REMOVEDIR);
}

/* What earlier removals left (snapshot.del.*) and a half-built
 * snapshot.tmp/. */
static void remove_leftovers(int sfd)
{
	struct walk_list names = { 0 };
	int d = openat(sfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir = d < 0 ? NULL : fdopendir(d);
	if (!dir) {
		if (d >= 0)
			close(d);
		return;
	}
	struct dirent *de;
	while ((de = readdir(dir)) != NULL)
		if (strncmp(de->d_name, ASIDE, strlen(ASIDE)) == 0 ||
		    strcmp(de->d_name, SNAPSHOT_TMP) == 0)
			walk_list_add(&names, de->d_name);
	closedir(dir);
	for (size_t i = 0; i < names.n; i++)
		remove_tree_at(sfd, names.items[i]);
	walk_list_free(&names);
}

/* from renamed to to in .volinit/ (sfd), never over an existing to:
 * renameat2 RENAME_NOREPLACE, or, where the filesystem takes no rename
 * flags (EINVAL: FUSE drivers without them, the kernel's NFS and CephFS
 * clients), to looked for and a plain rename when it is absent. That is as
 * sound under the exclusive lock, which every caller holds: no other
 * volinit works in .volinit/, and no one else may create there (root's,
 * 0700). Returns 0 or an errno value (EEXIST: to is there). */
static int rename_noreplace(int sfd, const char *from, const char *to)
{
	if (renameat2(sfd, from, sfd, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return errno;
	struct stat st;
	if (fstatat(sfd, to, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return EEXIST;
	if (errno != ENOENT)
		return errno;
	return renameat(sfd, from, sfd, to) == 0 ? 0 : errno;
}

/* A name for snapshot/ put aside that no other volinit, on this node or
 * another mounting the volume, picks: pid, time and random bits. */
static void aside_name(char *buf, size_t len)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	unsigned long long r = 0;
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = (unsigned long long)now.tv_nsec * 2654435761u;
	snprintf(buf, len, ASIDE "%ld.%ld%09ld.%016llx", (long)getpid(), (long)now.tv_sec,
		 now.tv_nsec, r);
}

/* snapshot/ renamed aside, durably: from then on there is no snapshot,
 * whatever happens to the deletion. */
static int put_aside(int sfd)
{
	char aside[96];
	aside_name(aside, sizeof(aside));
	int err = rename_noreplace(sfd, SNAPSHOT, aside);
	if (err)
		return err == ENOENT ? 0 : err;
	return fsync(sfd) == 0 ? 0 : errno;
}

struct usage {
	unsigned long long bytes, inodes;
	struct walk_links links;
	struct walk_list *mounts;
	struct stop stop;
};

/* What the copy will allocate: blocks, not sizes (holes stay holes), and
 * a hard-linked file once. */
static int measure_step(void *ctx, enum walk_event ev, struct walk_entry *e)
{
	struct usage *u = ctx;
	if (ev != WALK_LEAVE && stop_asked(&u->stop))
		return EINTR;
	if (ev == WALK_MOUNT)
		return u->mounts ? walk_list_add(u->mounts, e->path) : 0;
	if (ev == WALK_LEAVE)
		return 0;
	if (e->st->st_nlink > 1 && !S_ISDIR(e->st->st_mode)) {
		bool added;
		if (!walk_links_get(&u->links, e->st->st_dev, e->st->st_ino, &added))
			return ENOMEM;
		if (!added)
			return 0;
	}
	u->inodes++;
	u->bytes += (unsigned long long)e->st->st_blocks * 512;
	return 0;
}

/* "INO:bSEC.NSEC" (birth time) or "INO:cSEC.NSEC" (change time, where the
 * filesystem keeps no birth time: FUSE, NFS, tmpfs before 5.18) of fd. The
 * device is left out: it may change when the volume is mounted again. The
 * attributes are the server's (AT_STATX_FORCE_SYNC), not a client's
 * cached or locally updated ones: another node mounting the volume checks
 * the same id before it restores. */
static int id_of(int fd, char *id, size_t len)
{
	struct statx sx;
	if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_FORCE_SYNC,
		  STATX_INO | STATX_BTIME | STATX_CTIME, &sx) != 0)
		return errno;
	bool born = sx.stx_mask & STATX_BTIME;
	struct statx_timestamp t = born ? sx.stx_btime : sx.stx_ctime;
	snprintf(id, len, "%llu:%c%lld.%09u", (unsigned long long)sx.stx_ino, born ? 'b' : 'c',
		 (long long)t.tv_sec, t.tv_nsec);
	return 0;
}

/* Fails with 73 for lack of room on the volume for need. */
static int check_room(const struct volume_conf *v, int voldirfd, const struct usage *need)
{
	struct statvfs fs;
	if (fstatvfs(voldirfd, &fs) != 0)
		return 0; /* not known: the copy itself meets ENOSPC */
	unsigned long long avail = (unsigned long long)fs.f_bavail * fs.f_frsize;
	bool inodes_ok = fs.f_files == 0 || fs.f_favail >= need->inodes + 16;
	if (avail >= need->bytes + need->bytes / 64 + 65536 && inodes_ok)
		return 0;
	log_fatal(73, v->name,
		  "volume \"%s\" (%s): not enough free space for the snapshot: needs %llu KiB and "
		  "%llu inodes, has %llu KiB", v->name, v->path, need->bytes / 1024, need->inodes,
		  avail / 1024);
	log_hint(v->name, "nothing was changed; free space on the volume, or set snapshot = false "
			  "to migrate without a way back");
	return 73;
}

/* Measured, then copied into snapshot.tmp/ and published by a rename.
 * volinit's state directory is left out by its descriptor's device and
 * inode, whatever name the app gives it meanwhile. Returns 0 or an errno
 * value (*stop: the stop signal that ended it with EINTR); where names the
 * place; *room: 73 when the volume lacks the room. */
static int take(const struct volume_conf *v, int voldirfd, struct walk_list *mounts,
		char *id, size_t len, int *room, int *stop, char *where, size_t wlen)
{
	snprintf(where, wlen, ".volinit");
	int sfd = state_open(voldirfd, true);
	if (sfd < 0)
		return errno;
	struct stat state;
	int err = fstat(sfd, &state) == 0 ? 0 : errno;
	struct usage need = { .mounts = mounts, .stop = { .may = true } };
	if (!err) {
		snprintf(where, wlen, ".");
		err = walk_tree(voldirfd, -1, &state, measure_step, &need, where, wlen);
		*stop = need.stop.sig;
	}
	walk_links_free(&need.links);
	if (!err && (*room = check_room(v, voldirfd, &need)) != 0)
		err = ENOSPC;
	/* A snapshot/ left by a crash after a finished migration (no dirty
	 * marker): the volume is consistent, the old copy is of no use. */
	if (!err) {
		snprintf(where, wlen, ".volinit/%s", SNAPSHOT);
		err = put_aside(sfd);
		remove_leftovers(sfd);
	}
	int dst = -1;
	if (!err) {
		snprintf(where, wlen, ".volinit/%s", SNAPSHOT_TMP);
		if (mkdirat(sfd, SNAPSHOT_TMP, 0700) != 0 ||
		    (dst = walk_open(sfd, SNAPSHOT_TMP, O_RDONLY | O_DIRECTORY)) < 0)
			err = errno;
	}
	/* Complete only once it is on disk: then the rename publishes it. */
	if (!err)
		err = copy_volume(voldirfd, dst, &state, false, stop, where, wlen);
	if (!err)
		snprintf(where, wlen, ".volinit/%s", SNAPSHOT);
	if (!err)
		err = rename_noreplace(sfd, SNAPSHOT_TMP, SNAPSHOT);
	if (!err && fsync(sfd) != 0)
		err = errno;
	if (!err && len)
		err = id_of(dst, id, len);
	if (dst >= 0)
		close(dst);
	if (err)
		remove_tree_at(sfd, SNAPSHOT_TMP);
	close(sfd);
	return err;
}

const char *snapshot_strerror(int err)
{
	return err == ESTALE ? "renamed or replaced by another process while volinit worked on it"
			     : strerror(err);
}

int snapshot_take_mounts(const struct volume_conf *v, int voldirfd, char *id, size_t len,
			 struct walk_list *mounts)
{
	char where[4096];
	int room = 0, stop = 0;
	int err = take(v, voldirfd, mounts, id, len, &room, &stop, where, sizeof(where));
	if (room)
		return room;
	if (err == EINTR && stop) {
		log_fatal(128 + stop, v->name, "volume \"%s\" (%s): stopped by signal %d while taking "
					       "the snapshot; nothing on the volume was changed",
			  v->name, v->path, stop);
		return 128 + stop;
	}
	if (err) {
		log_fatal(73, v->name, "volume \"%s\" (%s): cannot take the snapshot: %s: %s",
			  v->name, v->path, where, snapshot_strerror(err));
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

int snapshot_take_id(const struct volume_conf *v, int voldirfd, char *id, size_t len)
{
	return snapshot_take_mounts(v, voldirfd, id, len, NULL);
}

int snapshot_take(const struct volume_conf *v, int voldirfd)
{
	return snapshot_take_mounts(v, voldirfd, NULL, 0, NULL);
}

int snapshot_open(int voldirfd)
{
	int sfd = state_open(voldirfd, false);
	if (sfd < 0)
		return -1;
	int fd = walk_open(sfd, SNAPSHOT, O_RDONLY | O_DIRECTORY);
	int err = errno;
	close(sfd);
	errno = err;
	return fd;
}

int snapshot_id(int voldirfd, char *id, size_t len)
{
	int fd = snapshot_open(voldirfd);
	if (fd < 0)
		return errno;
	int err = id_of(fd, id, len);
	close(fd);
	return err;
}

int snapshot_mounts(int voldirfd, struct walk_list *out)
{
	return walk_mounts(voldirfd, out);
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

/* The volume cleared (but volinit's state, the directory holding snap,
 * whatever its name now, and the volume's mounts), then snap copied in. */
static int restore_from(int snap, int voldirfd, char *where, size_t len)
{
	struct stat state;
	int sfd = openat(snap, "..", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int err = sfd >= 0 && fstat(sfd, &state) == 0 ? 0 : errno;
	if (sfd >= 0)
		close(sfd);
	if (err)
		return err;
	struct clearing cl = { .err = 0 };
	err = clear_tree(voldirfd, &state, &cl);
	if (err) {
		snprintf(where, len, "%s", cl.failed[0] ? cl.failed : ".");
		return err;
	}
	return copy_volume(snap, voldirfd, &state, true, NULL, where, len);
}

int snapshot_restore(int voldirfd, char *where, size_t len)
{
	snprintf(where, len, ".volinit/%s", SNAPSHOT);
	int snap = snapshot_open(voldirfd);
	if (snap < 0)
		return errno;
	int err = restore_from(snap, voldirfd, where, len);
	close(snap);
	return err;
}

int snapshot_restore_id(int voldirfd, const char *id, char *where, size_t len)
{
	snprintf(where, len, ".volinit/%s", SNAPSHOT);
	int snap = snapshot_open(voldirfd);
	if (snap < 0)
		return errno;
	char have[64];
	/* Checked on the descriptor the restore then reads: no swap between. */
	int err = id_of(snap, have, sizeof(have));
	if (!err && strcmp(have, id) != 0)
		err = ESTALE;
	if (!err)
		err = restore_from(snap, voldirfd, where, len);
	close(snap);
	return err;
}

void snapshot_remove(int voldirfd)
{
	int sfd = state_open(voldirfd, false);
	if (sfd < 0)
		return;
	/* Not renamed aside (a read-only volume, say): left whole, never half. */
	if (put_aside(sfd) == 0)
		remove_leftovers(sfd);
	close(sfd);
}
