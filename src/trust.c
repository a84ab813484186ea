/* trust: the ownership and mode rule for what volinit runs or reads as
 * instructions, checked on a walk from / that holds a descriptor per step. */
#include "trust.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_SYMLINKS 40 /* as the kernel's own ELOOP limit */
#define MAX_DEPTH 4096  /* levels walked up looking for a volume */

enum trust_problem trust_judge(const struct stat *st, const struct stat *parent, uid_t euid,
			       bool is_object)
{
	if (st->st_uid != 0 && st->st_uid != euid)
		return TRUST_OWNER;
	if (is_object && !S_ISLNK(st->st_mode) && (st->st_mode & (S_IWGRP | S_IWOTH)))
		return TRUST_MODE;
	/* In a sticky directory only an entry's owner, the directory's owner
	 * and root may rename or remove it: an entry of root's stays root's. */
	if (parent && (parent->st_mode & (S_IWGRP | S_IWOTH)) &&
	    !((parent->st_mode & S_ISVTX) && st->st_uid == 0))
		return TRUST_PARENT;
	return TRUST_FINE;
}

struct walk {
	const char *what, *path;
	char *err;
	size_t errlen;
	uid_t euid;
	int links;           /* symlinks followed so far */
	char at[PATH_MAX];   /* the directory resolved so far, for messages */
	char todo[2 * PATH_MAX];
	/* Results: the object (O_PATH), the directory it was found in (-1
	 * when the object is a directory reached by "." or ".."), its name. */
	int fd, parent;
	struct stat st;
	char name[NAME_MAX + 1];
};

static const char *writers(mode_t mode)
{
	if ((mode & S_IWGRP) && (mode & S_IWOTH))
		return "group and others";
	return mode & S_IWGRP ? "its group" : "others";
}

static const char *kind(mode_t mode)
{
	return S_ISDIR(mode) ? "directory" : S_ISLNK(mode) ? "symlink" : "file";
}

/* "WHAT PATH: what is wrong: volinit trusts only what the image owns". */
static enum trust_result unsafe(struct walk *w, enum trust_problem p, const char *entry,
				const struct stat *st, const struct stat *parent, bool is_object)
{
	char subject[PATH_MAX + 64] = "";
	char desc[2 * PATH_MAX + 256];
	if (p == TRUST_PARENT) {
		snprintf(subject, sizeof(subject), "%s (a directory on its path) is ", w->at);
		snprintf(desc, sizeof(desc), "%swritable by %s (mode %04o)%s", subject,
			 writers(parent->st_mode), (unsigned)(parent->st_mode & 07777),
			 parent->st_mode & S_ISVTX ? ", sticky but above an entry not owned by root"
						   : "");
	} else {
		if (!is_object)
			snprintf(subject, sizeof(subject), "%s %s (on its path) is ",
				 kind(st->st_mode), entry);
		else if (w->links > 0)
			snprintf(subject, sizeof(subject), "%s, where it leads, is ", entry);
		if (p == TRUST_OWNER)
			snprintf(desc, sizeof(desc), "%sowned by uid %u, not root or volinit's user "
				 "(uid %u)", subject, (unsigned)st->st_uid, (unsigned)w->euid);
		else
			snprintf(desc, sizeof(desc), "%swritable by %s (mode %04o)", subject,
				 writers(st->st_mode), (unsigned)(st->st_mode & 07777));
	}
	snprintf(w->err, w->errlen, "%s %s: %s: volinit trusts only what the image owns",
		 w->what, w->path, desc);
	return TRUST_UNSAFE;
}

static enum trust_result system_error(struct walk *w, const char *where)
{
	int e = errno;
	snprintf(w->err, w->errlen, "%s %s: %s: %s", w->what, w->path, where, strerror(e));
	errno = e;
	return TRUST_SYSTEM;
}

static void close_keep_errno(int fd)
{
	int e = errno;
	if (fd >= 0)
		close(fd);
	errno = e;
}

/* at = at + "/" + name, or at without its last component for "..". */
static void at_push(char *at, const char *name)
{
	size_t n = strlen(at);
	snprintf(at + n, PATH_MAX - n, "%s%s", n > 1 ? "/" : "", name);
}

static void at_pop(char *at)
{
	char *slash = strrchr(at, '/');
	if (slash == at)
		at[1] = '\0';
	else if (slash)
		*slash = '\0';
}

static int open_root(struct stat *st)
{
	int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0 && fstat(fd, st) != 0) {
		close_keep_errno(fd);
		return -1;
	}
	return fd;
}

/* From /, one component at a time, each opened O_PATH|O_NOFOLLOW relative
 * to the directory before it and judged before the walk goes on. */
/* w->todo = the absolute path to walk: w->path, or for a relative -c
 * FILE the working directory and w->path (its directories are judged like
 * the rest). Returns 0, or -1 with errno. */
static int start_todo(struct walk *w)
{
	size_t n = 0;
	if (w->path[0] != '/') {
		if (!getcwd(w->todo, PATH_MAX))
			return -1;
		n = strlen(w->todo);
	}
	if (snprintf(w->todo + n, sizeof(w->todo) - n, n ? "/%s" : "%s", w->path) >=
	    (int)(sizeof(w->todo) - n)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* The next component of *s into comp, *s moved past it and the slashes
 * after it; *last when none follows. Returns 1, 0 at the end, or -1 with
 * errno ENAMETOOLONG. */
static int next_component(const char **s, char comp[NAME_MAX + 1], bool *last)
{
	const char *p = *s;
	while (*p == '/')
		p++;
	if (!*p)
		return 0;
	const char *e = strchrnul(p, '/');
	size_t n = (size_t)(e - p);
	if (n > NAME_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(comp, p, n);
	comp[n] = '\0';
	while (*e == '/')
		e++;
	*last = *e == '\0';
	*s = e;
	return 1;
}

/* The symlink fd (O_PATH, closed here) is followed as open and execve
 * would: its target, then the rest of the path (rest), become w->todo,
 * walked and judged like any other path; an absolute target starts again
 * at / (*cur, *cst). The link itself cannot change: its directory was
 * judged. Returns 0, or -1 with errno. */
static int follow_link(struct walk *w, int fd, const char *rest, int *cur, struct stat *cst)
{
	char target[PATH_MAX], after[PATH_MAX];
	ssize_t tn = ++w->links > MAX_SYMLINKS ? (errno = ELOOP, -1)
		   : readlinkat(fd, "", target, sizeof(target) - 1);
	close_keep_errno(fd);
	if (tn >= (ssize_t)sizeof(target) - 1)
		errno = ENAMETOOLONG;
	if (tn < 0 || tn >= (ssize_t)sizeof(target) - 1)
		return -1;
	target[tn] = '\0';
	snprintf(after, sizeof(after), "%s", rest);
	if (snprintf(w->todo, sizeof(w->todo), "%s/%s", target, after) >= (int)sizeof(w->todo)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (target[0] == '/') {
		close(*cur);
		if ((*cur = open_root(cst)) < 0)
			return -1;
		strcpy(w->at, "/");
	}
	return 0;
}

static enum trust_result walk_path(struct walk *w)
{
	w->fd = w->parent = -1;
	if (start_todo(w) != 0)
		return system_error(w, "cannot resolve");
	struct stat cst;
	int cur = open_root(&cst);
	if (cur < 0)
		return system_error(w, "cannot open /");
	strcpy(w->at, "/");
	enum trust_problem p = trust_judge(&cst, NULL, w->euid, false);
	if (p) {
		close(cur);
		return unsafe(w, p, "/", &cst, NULL, false);
	}
	const char *s = w->todo;
	char comp[NAME_MAX + 1];
	bool last;
	int more;
	while ((more = next_component(&s, comp, &last)) != 0) {
		if (more < 0) {
			close_keep_errno(cur);
			return system_error(w, "cannot resolve");
		}
		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			/* Up to a directory already judged on the way down:
			 * every directory reached was reached from /. */
			int up = openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
			close_keep_errno(cur);
			if (up < 0 || fstat(up, &cst) != 0) {
				close_keep_errno(up);
				return system_error(w, "cannot open ..");
			}
			cur = up;
			at_pop(w->at);
			continue;
		}
		char entry[PATH_MAX];
		snprintf(entry, sizeof(entry), "%s", w->at);
		at_push(entry, comp);
		int fd = openat(cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		struct stat st;
		if (fd < 0 || fstat(fd, &st) != 0) {
			close_keep_errno(fd);
			close_keep_errno(cur);
			return system_error(w, entry);
		}
		bool is_object = last && !S_ISLNK(st.st_mode);
		p = trust_judge(&st, &cst, w->euid, is_object);
		if (p) {
			close(fd);
			close(cur);
			return unsafe(w, p, entry, &st, &cst, is_object);
		}
		if (S_ISLNK(st.st_mode)) {
			if (follow_link(w, fd, s, &cur, &cst) != 0) {
				close_keep_errno(cur);
				return system_error(w, entry);
			}
			s = w->todo;
			continue;
		}
		if (!last) {
			if (!S_ISDIR(st.st_mode)) {
				close(fd);
				close(cur);
				errno = ENOTDIR;
				return system_error(w, entry);
			}
			close(cur);
			cur = fd;
			cst = st;
			snprintf(w->at, sizeof(w->at), "%s", entry);
			continue;
		}
		w->fd = fd;
		w->parent = cur;
		w->st = st;
		snprintf(w->name, sizeof(w->name), "%s", comp);
		return TRUST_OK;
	}
	/* Ended on a directory ("/", ".", ".."): judged on the way as a step;
	 * as the object, its own mode counts too. */
	p = trust_judge(&cst, NULL, w->euid, true);
	if (p) {
		close(cur);
		return unsafe(w, p, w->at, &cst, NULL, true);
	}
	w->fd = cur;
	w->st = cst;
	return TRUST_OK;
}

static bool same_inode(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* Up from dirfd through "..", to /: the volumes are compared by device
 * and inode, so that no spelling, symlink or bind mount hides one. */
static enum trust_result inside_volume(struct walk *w, int dirfd,
				       const struct volume_conf *vols, size_t nvols)
{
	struct stat *roots = calloc(nvols, sizeof(*roots));
	if (!roots)
		return system_error(w, "cannot check");
	for (size_t i = 0; i < nvols; i++) {
		/* A volume not there yet holds nothing: the guard says 66. */
		if (stat(vols[i].path, &roots[i]) != 0 || !S_ISDIR(roots[i].st_mode))
			roots[i].st_ino = 0;
	}
	struct stat top, st;
	int fd = openat(dirfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	enum trust_result rc = TRUST_OK;
	if (stat("/", &top) != 0 || fd < 0) {
		rc = system_error(w, "cannot check");
		goto out;
	}
	for (int depth = 0; depth < MAX_DEPTH; depth++) {
		if (fstat(fd, &st) != 0) {
			rc = system_error(w, "cannot check");
			goto out;
		}
		for (size_t i = 0; i < nvols; i++) {
			if (roots[i].st_ino != 0 && same_inode(&st, &roots[i])) {
				snprintf(w->err, w->errlen, "%s %s: inside the volume \"%s\" (%s), "
					 "which the app can write: volinit runs only what the image "
					 "owns", w->what, w->path, vols[i].name, vols[i].path);
				rc = TRUST_UNSAFE;
				goto out;
			}
		}
		if (same_inode(&st, &top))
			break;
		int up = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		close(fd);
		fd = up;
		if (fd < 0) {
			rc = system_error(w, "cannot check");
			goto out;
		}
		struct stat ust;
		if (fstat(fd, &ust) == 0 && same_inode(&ust, &st))
			break; /* a root of its own (chroot): nothing above */
	}
out:
	close_keep_errno(fd);
	free(roots);
	return rc;
}

static enum trust_result check(struct walk *w, bool is_dir, const struct volume_conf *vols,
			       size_t nvols)
{
	enum trust_result rc = walk_path(w);
	if (rc != TRUST_OK)
		return rc;
	if (is_dir ? !S_ISDIR(w->st.st_mode) : !S_ISREG(w->st.st_mode)) {
		snprintf(w->err, w->errlen, "%s %s: not a %s", w->what, w->path,
			 is_dir ? "directory" : "regular file");
		rc = TRUST_TYPE;
	} else if (nvols > 0) {
		rc = inside_volume(w, is_dir ? w->fd : w->parent, vols, nvols);
	}
	if (rc != TRUST_OK) {
		close_keep_errno(w->fd);
		close_keep_errno(w->parent);
		w->fd = w->parent = -1;
	}
	return rc;
}

/* Walks path as check does, on a walk of its own (*w, NULL when it could
 * not be had); the caller closes its descriptors and frees it. */
static enum trust_result start(const char *path, const char *what, bool is_dir,
			       const struct volume_conf *vols, size_t nvols, char *err,
			       size_t errlen, struct walk **w)
{
	*w = calloc(1, sizeof(**w));
	if (!*w) {
		snprintf(err, errlen, "%s %s: out of memory", what, path);
		errno = ENOMEM;
		return TRUST_SYSTEM;
	}
	**w = (struct walk){ .what = what, .path = path, .err = err, .errlen = errlen,
			     .euid = geteuid() };
	return check(*w, is_dir, vols, nvols);
}

enum trust_result trust_check(const char *path, const char *what, bool is_dir,
			      const struct volume_conf *vols, size_t nvols, char *err,
			      size_t errlen)
{
	struct walk *w;
	enum trust_result rc = start(path, what, is_dir, vols, nvols, err, errlen, &w);
	if (!w)
		return rc;
	if (rc == TRUST_OK) {
		close(w->fd);
		close_keep_errno(w->parent);
	}
	free(w);
	return rc;
}

enum trust_result trust_open(const char *path, const char *what, bool is_dir,
			     const struct volume_conf *vols, size_t nvols, int *fd, char *err,
			     size_t errlen)
{
	*fd = -1;
	struct walk *w;
	enum trust_result rc = start(path, what, is_dir, vols, nvols, err, errlen, &w);
	if (!w)
		return rc;
	if (rc != TRUST_OK) {
		free(w);
		return rc;
	}
	/* Opened again from the descriptors of the walk, never by path; the
	 * same inode, or the name changed under us (only trusted users can). */
	int o = is_dir ? openat(w->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
		       : openat(w->parent, w->name,
				O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	struct stat st;
	if (o >= 0 && (fstat(o, &st) != 0 || !same_inode(&st, &w->st))) {
		close(o);
		o = -1;
		errno = ESTALE;
	}
	if (o < 0)
		rc = system_error(w, "cannot open");
	close_keep_errno(w->fd);
	close_keep_errno(w->parent);
	free(w);
	*fd = o;
	return rc;
}
