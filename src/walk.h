/* walk: the one walk of a directory tree someone else controls (measure,
 * snapshot, restore, clear). Iterative on a heap stack (any depth), every
 * step relative to a held directory descriptor, never a path from the
 * root; never crosses into another mount; a bounded number of
 * descriptors open at once. Optionally it carries a second, destination
 * tree along (a copy), whose directories the callback creates. */
#ifndef VOLINIT_WALK_H
#define VOLINIT_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

/* Directories open at once (per tree) before the shallower ones are
 * closed and re-reached through ".." checked by device and inode. */
#define WALK_MAX_FDS 64

enum walk_event {
	WALK_ENTER, /* a directory, before its entries: fd is it, opened and checked */
	WALK_LEAVE, /* the same directory after its entries (fd, dst open again) */
	WALK_FILE,  /* anything but a directory: not opened by the walk */
	WALK_MOUNT, /* a mount inside the tree (any type): never entered */
};

struct walk_entry {
	int parent;          /* the directory holding it */
	int dst_parent;      /* its counterpart in the destination tree, or -1 */
	const char *name;    /* its name in parent */
	const char *path;    /* relative to the root, for messages */
	const struct stat *st; /* statx of name in parent, not followed */
	int fd;              /* ENTER, LEAVE: the directory itself */
	int dst;             /* ENTER: the callback may set the counterpart's
				descriptor (the walk owns it then); LEAVE: it */
	struct stat dst_st;  /* ENTER: with dst, the callback sets its fstat */
	bool kept;           /* LEAVE: something below was kept (a mount, ...) */
	size_t depth;        /* 1 for the root's entries */
};

/* What a callback returns: 0 to go on, WALK_SKIP (ENTER: do not enter, no
 * LEAVE follows; the directory stays, as WALK_KEEP), WALK_KEEP (the entry
 * stays: the directories above it are marked kept), or an errno value,
 * which ends the walk. */
#define WALK_SKIP (-1)
#define WALK_KEEP (-2)

typedef int (*walk_fn)(void *ctx, enum walk_event ev, struct walk_entry *e);

/* Walks everything below root (not root itself), depth first, calling fn.
 * dst_root: the destination tree's root, or -1. state: NULL leaves nothing
 * out; else the root's entry named .volinit is left out, and so is, where
 * the walk meets it, the directory *state is (device and inode: the app
 * owns the volume root and may rename volinit's state directory to any
 * name there; a zeroed *state leaves out the name only). An entry that vanished
 * before it was looked at is left out; one that was swapped between two
 * looks (another inode, a symlink where a directory was) ends the walk
 * with ESTALE. Returns 0 or the first error; where (when len > 0) then
 * gets the relative path it happened at. */
int walk_tree(int root, int dst_root, const struct stat *state, walk_fn fn, void *ctx, char *where,
	      size_t len);

/* Opens name in dirfd beneath it: openat2 with RESOLVE_BENEATH,
 * RESOLVE_NO_SYMLINKS, RESOLVE_NO_MAGICLINKS and RESOLVE_NO_XDEV where the
 * kernel has it, else openat with O_NOFOLLOW. O_CLOEXEC is added. Returns
 * the descriptor or -1 with errno. */
int walk_open(int dirfd, const char *name, int flags);

/* Opens the directory name in dirfd and checks it is the inode want says
 * (ESTALE when not). Returns the descriptor or -1 with errno. */
int walk_open_dir(int dirfd, const char *name, const struct stat *want);

/* 1 when fd is the root of a mount (statx STATX_ATTR_MOUNT_ROOT), 0 when
 * not or when the kernel cannot tell. */
int walk_fd_is_mount(int fd);

/* A list of relative names (the mounts found inside a tree). */
struct walk_list {
	char **items;
	size_t n, cap;
};

int walk_list_add(struct walk_list *l, const char *s);
void walk_list_free(struct walk_list *l);

/* The mount points inside the tree at root (relative names, in walk
 * order), .volinit left out. Returns 0 or an errno value. */
int walk_mounts(int root, struct walk_list *out);

/* Hard-link bookkeeping: a hash table keyed by (device, inode). */
struct walk_link {
	dev_t dev;
	ino_t ino;
	unsigned long left; /* links still to be seen */
	int fd;             /* a held descriptor of the first copy, or -1 */
	char *path;         /* else its path from the destination root */
	dev_t ddev;         /* and the first copy's own device and inode */
	ino_t dino;
	bool used;
};

struct walk_links {
	struct walk_link *slots;
	size_t n, cap;
	size_t fds; /* descriptors held in slots */
};

/* The entry of (dev, ino), added (zeroed but for the key, fd -1) when
 * new (*added set). NULL with errno ENOMEM. */
struct walk_link *walk_links_get(struct walk_links *t, dev_t dev, ino_t ino, bool *added);

/* Forgets an entry (closes its descriptor). */
void walk_links_drop(struct walk_links *t, struct walk_link *l);

void walk_links_free(struct walk_links *t);

#endif
