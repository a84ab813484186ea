/* fsinfo: which filesystem a volume lives on, and how far its locks reach
 * (SPEC.md "Shared volumes (several nodes)"): from fstatfs's f_type and
 * the volume's line in /proc/self/mountinfo (the type, a FUSE driver's
 * subtype, the mount options). */
#ifndef VOLINIT_FSINFO_H
#define VOLINIT_FSINFO_H

#include <stdbool.h>
#include <stddef.h>

enum fs_locks {
	FS_LOCKS_UNKNOWN, /* volinit does not know whether they reach other nodes */
	FS_LOCKS_LOCAL,   /* a local filesystem: only this node mounts it */
	FS_LOCKS_SHARED,  /* shared with every node that mounts it (NFS, CephFS, GlusterFS...) */
	FS_LOCKS_NODE,    /* other nodes may mount it, but locks stay on this one */
};

struct fsinfo {
	char type[64];      /* "ext4", "nfs4", "fuse.glusterfs"; "unknown" when not found */
	enum fs_locks locks;
	char why[160];      /* what told: "mount option local_lock=all", "bindfs" */
};

/* From f_type (0: not known) and the volume's mountinfo line (NULL: not
 * found); pure, for tests. */
void fsinfo_classify(long f_type, const char *mountinfo_line, struct fsinfo *out);

/* For the directory dirfd: its mount's line found by mount ID. Never
 * fails: what cannot be found is unknown. */
void fsinfo_of(int dirfd, struct fsinfo *out);

/* "local", "shared", "node", "unknown": for JSON. */
const char *fsinfo_locks_name(enum fs_locks locks);

/* The filesystem and its locks in words, for status, check and --dry-run:
 * "fuse.glusterfs, locks shared with other nodes". */
void fsinfo_text(const struct fsinfo *fs, char *buf, size_t len);

#endif
