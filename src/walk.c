/* walk: see walk.h. Like gnulib's fts with FTS_CWDFD: a heap stack of
 * frames, each directory's names read whole on entry (so a descriptor can
 * be closed and the directory re-reached without losing its place), at
 * most WALK_MAX_FDS directories of each tree open, the shallower ones
 * re-reached through ".." and checked by device and inode. */
#include "walk.h"
#include "volume.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

int walk_open(int dirfd, const char *name, int flags)
{
	/* Not known yet: -1; openat2 there: 1; not (ENOSYS): 0. */
	static int have_openat2 = -1;
	flags |= O_NOFOLLOW | O_CLOEXEC;
	if (have_openat2 != 0) {
		struct open_how how = {
			.flags = (uint64_t)flags,
			.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
				   RESOLVE_NO_XDEV,
		};
		long fd = syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
		if (fd >= 0 || errno != ENOSYS) {
			have_openat2 = 1;
			return (int)fd;
		}
		have_openat2 = 0;
	}
	return openat(dirfd, name, flags);
}

static bool same_inode(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

int walk_open_dir(int dirfd, const char *name, const struct stat *want)
{
	int fd = walk_open(dirfd, name, O_RDONLY | O_DIRECTORY);
	if (fd < 0) {
		/* A symlink or a mount swapped in for the directory. */
		if (errno == ELOOP || errno == EXDEV || errno == ENOTDIR)
			errno = ESTALE;
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	if (!same_inode(&st, want)) {
		close(fd);
		errno = ESTALE;
		return -1;
	}
	return fd;
}

/* Statx of name in dirfd, not followed, as a struct stat; *mnt_id and
 * *mount_root when the kernel says. Returns 0 or an errno value. */
static int look(int dirfd, const char *name, int flags, struct stat *st, uint64_t *mnt_id,
		bool *mount_root)
{
	struct statx sx;
	if (statx(dirfd, name, flags | AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT,
		  STATX_BASIC_STATS | STATX_MNT_ID, &sx) != 0)
		return errno;
	memset(st, 0, sizeof(*st));
	st->st_dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
	st->st_ino = sx.stx_ino;
	st->st_mode = sx.stx_mode;
	st->st_nlink = sx.stx_nlink;
	st->st_uid = sx.stx_uid;
	st->st_gid = sx.stx_gid;
	st->st_rdev = makedev(sx.stx_rdev_major, sx.stx_rdev_minor);
	st->st_size = (off_t)sx.stx_size;
	st->st_blksize = sx.stx_blksize;
	st->st_blocks = (blkcnt_t)sx.stx_blocks;
	st->st_atim = (struct timespec){ sx.stx_atime.tv_sec, sx.stx_atime.tv_nsec };
	st->st_mtim = (struct timespec){ sx.stx_mtime.tv_sec, sx.stx_mtime.tv_nsec };
	st->st_ctim = (struct timespec){ sx.stx_ctime.tv_sec, sx.stx_ctime.tv_nsec };
	*mnt_id = (sx.stx_mask & STATX_MNT_ID) ? sx.stx_mnt_id : 0;
	*mount_root = (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
		      (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
	return 0;
}

int walk_fd_is_mount(int fd)
{
	struct statx sx;
	if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx) != 0)
		return 0;
	return (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
	       (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

/* One directory on the stack. */
struct frame {
	char *names;      /* its entries, NUL-separated, read on entry */
	size_t size, pos; /* bytes in names, the next one */
	const char *name; /* its own name (in the parent frame's names) */
	size_t pathlen;   /* length of the path up to its parent */
	struct stat st;   /* as statx saw it in the parent */
	int fd, dst;      /* -1 while closed (too deep below) */
	struct stat dst_st;
	bool kept;
};

struct walker {
	struct frame *stack;
	size_t depth, cap; /* frames used (the root is frame 0) */
	char *path;
	size_t pathcap;
	dev_t dev;        /* the root's */
	uint64_t mnt_id;
	const struct stat *state; /* left out (walk_tree), or NULL */
};

/* All entry names of fd but "." and "..". fd was just opened: its read
 * position is at the start, and nothing else reads through it. */
static int read_names(int d, bool skip_state, struct frame *f)
{
	size_t cap = 256;
	f->names = malloc(cap);
	f->size = f->pos = 0;
	int err = f->names ? 0 : ENOMEM;
	char buf[32768];
	while (!err) {
		long n = syscall(SYS_getdents64, d, buf, sizeof(buf));
		if (n < 0) {
			err = errno;
			break;
		}
		if (n == 0)
			break;
		for (long off = 0; off < n;) {
			struct dirent64 *e = (struct dirent64 *)(void *)(buf + off);
			off += e->d_reclen;
			const char *nm = e->d_name;
			if (strcmp(nm, ".") == 0 || strcmp(nm, "..") == 0 ||
			    (skip_state && strcmp(nm, VOLUME_STATE_DIR) == 0))
				continue;
			size_t l = strlen(nm) + 1;
			if (f->size + l > cap) {
				while (f->size + l > cap)
					cap *= 2;
				char *p = realloc(f->names, cap);
				if (!p) {
					err = ENOMEM;
					break;
				}
				f->names = p;
			}
			memcpy(f->names + f->size, nm, l);
			f->size += l;
		}
	}
	return err;
}

/* path = the path up to (not including) the frame's entries, plus name. */
static int set_path(struct walker *w, size_t base, const char *name)
{
	size_t l = strlen(name);
	if (base + l + 2 > w->pathcap) {
		size_t cap = w->pathcap ? w->pathcap : 256;
		while (base + l + 2 > cap)
			cap *= 2;
		char *p = realloc(w->path, cap);
		if (!p)
			return ENOMEM;
		w->path = p;
		w->pathcap = cap;
	}
	if (base)
		w->path[base++] = '/';
	memcpy(w->path + base, name, l + 1);
	return 0;
}

/* The length of the path of frame i (its entries' base). */
static size_t frame_base(const struct walker *w, size_t i)
{
	const struct frame *f = &w->stack[i];
	if (i == 0)
		return 0;
	return f->pathlen + (f->pathlen ? 1 : 0) + strlen(f->name);
}

static void close_frame(struct frame *f)
{
	if (f->fd >= 0)
		close(f->fd);
	if (f->dst >= 0)
		close(f->dst);
	f->fd = f->dst = -1;
}

/* Re-reaches frame i (closed) from frame i + 1 (open) through "..": the
 * parent it has now must be the one it had (device and inode). */
static int reopen_up(struct walker *w, size_t i)
{
	struct frame *f = &w->stack[i], *c = &w->stack[i + 1];
	struct stat st;
	f->fd = openat(c->fd, "..", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (f->fd < 0)
		return errno;
	if (fstat(f->fd, &st) != 0 || !same_inode(&st, &f->st))
		return ESTALE;
	if (c->dst >= 0) {
		f->dst = openat(c->dst, "..", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (f->dst < 0)
			return errno;
		if (fstat(f->dst, &st) != 0 || !same_inode(&st, &f->dst_st))
			return ESTALE;
	}
	return 0;
}

/* Pushes the directory fd (and its counterpart dst, or -1), which the
 * walk owns from then on, even when it fails. */
static int push(struct walker *w, const char *name, const struct stat *st, int fd, int dst,
		const struct stat *dst_st)
{
	if (w->depth == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		struct frame *s = realloc(w->stack, cap * sizeof(*s));
		if (!s) {
			close(fd);
			if (dst >= 0)
				close(dst);
			return ENOMEM;
		}
		w->stack = s;
		w->cap = cap;
	}
	struct frame *f = &w->stack[w->depth];
	*f = (struct frame){ .name = name, .st = *st, .fd = fd, .dst = dst, .dst_st = *dst_st };
	f->pathlen = w->depth ? frame_base(w, w->depth - 1) : 0;
	w->depth++;
	int err = read_names(fd, w->depth == 1 && w->state, f);
	/* Bounded: the frame WALK_MAX_FDS above is closed (never the root's). */
	if (w->depth > WALK_MAX_FDS + 1)
		close_frame(&w->stack[w->depth - 1 - WALK_MAX_FDS]);
	return err;
}

/* Pops the top frame; the one WALK_MAX_FDS above it is reopened. */
static int pop(struct walker *w)
{
	int err = 0;
	size_t top = w->depth - 1;
	if (top > WALK_MAX_FDS && w->stack[top - WALK_MAX_FDS].fd < 0)
		err = reopen_up(w, top - WALK_MAX_FDS);
	struct frame *f = &w->stack[top];
	free(f->names);
	f->names = NULL;
	close_frame(f);
	w->depth--;
	return err;
}

static bool is_mount(const struct walker *w, const struct stat *st, uint64_t mnt_id,
		     bool mount_root)
{
	return st->st_dev != w->dev || mount_root || (mnt_id && w->mnt_id && mnt_id != w->mnt_id);
}

static void mark_kept(struct walker *w)
{
	w->stack[w->depth - 1].kept = true;
}

/* One entry of the top frame. Returns 0 or an errno value. */
static int step(struct walker *w, walk_fn fn, void *ctx, const char *name)
{
	struct frame *top = &w->stack[w->depth - 1];
	int err = set_path(w, frame_base(w, w->depth - 1), name);
	if (err)
		return err;
	struct stat st;
	uint64_t mnt_id;
	bool mount_root;
	err = look(top->fd, name, 0, &st, &mnt_id, &mount_root);
	if (err == ENOENT)
		return 0; /* gone meanwhile: as if looked at a moment later */
	if (err)
		return err;
	struct walk_entry e = {
		.parent = top->fd, .dst_parent = top->dst, .name = name, .path = w->path,
		.st = &st, .fd = -1, .dst = -1, .depth = w->depth,
	};
	if (is_mount(w, &st, mnt_id, mount_root)) {
		mark_kept(w);
		int r = fn(ctx, WALK_MOUNT, &e);
		return r > 0 ? r : 0;
	}
	if (S_ISDIR(st.st_mode) && w->state && same_inode(&st, w->state)) {
		mark_kept(w); /* volinit's own state, renamed by the app */
		return 0;
	}
	if (!S_ISDIR(st.st_mode)) {
		int r = fn(ctx, WALK_FILE, &e);
		if (r == WALK_KEEP)
			mark_kept(w);
		return r > 0 ? r : 0;
	}
	int fd = walk_open_dir(top->fd, name, &st);
	if (fd < 0)
		return errno == ENOENT ? 0 : errno;
	e.fd = fd;
	int r = fn(ctx, WALK_ENTER, &e);
	if (r != 0) {
		if (e.dst >= 0)
			close(e.dst);
		close(fd);
		if (r == WALK_KEEP || r == WALK_SKIP)
			mark_kept(w);
		return r > 0 ? r : 0;
	}
	return push(w, name, &st, fd, e.dst, &e.dst_st);
}

int walk_tree(int root, int dst_root, const struct stat *state, walk_fn fn, void *ctx,
	      char *where, size_t len)
{
	struct walker w = { .state = state };
	struct stat st;
	bool mount_root;
	int err = look(root, "", AT_EMPTY_PATH, &st, &w.mnt_id, &mount_root);
	if (err)
		return err;
	w.dev = st.st_dev;
	int fd = openat(root, ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno;
	int dst = -1;
	struct stat dst_st = { 0 };
	if (dst_root >= 0) {
		dst = openat(dst_root, ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dst < 0 || fstat(dst, &dst_st) != 0) {
			err = errno;
			if (dst >= 0)
				close(dst);
			close(fd);
			return err;
		}
	}
	err = push(&w, "", &st, fd, dst, &dst_st);
	while (!err && w.depth > 0) {
		struct frame *f = &w.stack[w.depth - 1];
		if (f->pos < f->size) {
			const char *name = f->names + f->pos;
			f->pos += strlen(name) + 1;
			err = step(&w, fn, ctx, name);
			continue;
		}
		if (w.depth == 1)
			break;
		/* LEAVE while the directory and its parent are open. */
		size_t top = w.depth - 1;
		struct frame *p = &w.stack[top - 1];
		if (p->fd < 0 && (err = reopen_up(&w, top - 1)) != 0)
			break;
		if ((err = set_path(&w, f->pathlen, f->name)) != 0)
			break;
		struct walk_entry e = {
			.parent = p->fd, .dst_parent = p->dst, .name = f->name, .path = w.path,
			.st = &f->st, .fd = f->fd, .dst = f->dst, .kept = f->kept, .depth = top,
		};
		int r = fn(ctx, WALK_LEAVE, &e);
		bool kept = f->kept || r == WALK_KEEP;
		if (r > 0) {
			err = r;
			break;
		}
		err = pop(&w);
		if (kept)
			mark_kept(&w);
	}
	if (err && len)
		snprintf(where, len, "%s", w.path && w.path[0] ? w.path : ".");
	while (w.depth > 0) {
		struct frame *f = &w.stack[--w.depth];
		free(f->names);
		close_frame(f);
	}
	free(w.stack);
	free(w.path);
	return err;
}

int walk_list_add(struct walk_list *l, const char *s)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		char **p = realloc(l->items, cap * sizeof(*p));
		if (!p)
			return ENOMEM;
		l->items = p;
		l->cap = cap;
	}
	char *d = strdup(s);
	if (!d)
		return ENOMEM;
	l->items[l->n++] = d;
	return 0;
}

void walk_list_free(struct walk_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
	*l = (struct walk_list){ 0 };
}

static int list_mount(void *ctx, enum walk_event ev, struct walk_entry *e)
{
	if (ev == WALK_MOUNT)
		return walk_list_add(ctx, e->path);
	return 0;
}

int walk_mounts(int root, struct walk_list *out)
{
	static const struct stat by_name;
	return walk_tree(root, -1, &by_name, list_mount, out, NULL, 0);
}

static size_t hash(dev_t dev, ino_t ino)
{
	uint64_t h = ((uint64_t)dev * 0x9E3779B97F4A7C15u) ^ ((uint64_t)ino * 0xC2B2AE3D27D4EB4Fu);
	return (size_t)(h ^ (h >> 29));
}

static int grow(struct walk_links *t)
{
	size_t cap = t->cap ? t->cap * 2 : 256;
	struct walk_link *s = calloc(cap, sizeof(*s));
	if (!s)
		return ENOMEM;
	for (size_t i = 0; i < t->cap; i++) {
		if (!t->slots[i].used)
			continue;
		size_t j = hash(t->slots[i].dev, t->slots[i].ino) & (cap - 1);
		while (s[j].used)
			j = (j + 1) & (cap - 1);
		s[j] = t->slots[i];
	}
	free(t->slots);
	t->slots = s;
	t->cap = cap;
	return 0;
}

struct walk_link *walk_links_get(struct walk_links *t, dev_t dev, ino_t ino, bool *added)
{
	*added = false;
	if ((t->n + 1) * 2 > t->cap && grow(t) != 0) {
		errno = ENOMEM;
		return NULL;
	}
	size_t j = hash(dev, ino) & (t->cap - 1);
	while (t->slots[j].used) {
		if (t->slots[j].dev == dev && t->slots[j].ino == ino)
			return &t->slots[j];
		j = (j + 1) & (t->cap - 1);
	}
	t->slots[j] = (struct walk_link){ .dev = dev, .ino = ino, .fd = -1, .used = true };
	t->n++;
	*added = true;
	return &t->slots[j];
}

void walk_links_drop(struct walk_links *t, struct walk_link *l)
{
	if (l->fd >= 0) {
		close(l->fd);
		t->fds--;
	}
	l->fd = -1;
	free(l->path);
	l->path = NULL;
	l->left = 0;
}

void walk_links_free(struct walk_links *t)
{
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].used)
			walk_links_drop(t, &t->slots[i]);
	free(t->slots);
	*t = (struct walk_links){ 0 };
}
