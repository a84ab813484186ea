/* xattrs: one inode's extended attributes given to another (POSIX ACLs,
 * file capabilities, user.*, security labels), for the snapshot. */
#ifndef VOLINIT_XATTRS_H
#define VOLINIT_XATTRS_H

/* An inode: through an open descriptor, or, when path is set, through
 * "/proc/self/fd/N" of an O_PATH descriptor N (symlinks, FIFOs, sockets,
 * devices: f*xattr does not work on O_PATH descriptors). That magic link
 * is followed: it leads to the inode itself, a symlink included, never
 * further, and never by a name that could have changed. */
struct xnode {
	int fd;
	const char *path;
};

/* Makes to's extended attributes exactly from's: a new inode may have got
 * some by itself (its directory's default ACL, a security label), and one
 * that is kept (a restored volume root) what a failed step added. A
 * security label (security.*, not a file capability) that cannot be set or
 * removed stays as the kernel gave it and is counted in *labels_left.
 * Returns 0 or an errno value. */
int xattrs_copy(const struct xnode *from, const struct xnode *to, unsigned *labels_left);

#endif
