/* snapshot: PATH/.volinit/snapshot/, the volume's contents from before the
 * current migration, kept with owners, modes, times, symlinks, hard
 * links, extended attributes and holes, reflinked where the filesystem
 * can. It is built in snapshot.tmp/ and renamed when complete, and removed
 * by renaming it aside first (snapshot.del.*), so snapshot/ existing means
 * complete. A mount inside the volume is left out of it, and left alone by
 * a restore (walk.h). */
#ifndef VOLINIT_SNAPSHOT_H
#define VOLINIT_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "walk.h"

/* Checks the free space, then copies. Returns 0, or 73 after a FATAL line. */
int snapshot_take(const struct volume_conf *v, int voldirfd);

/* As snapshot_take, and id (len > 0) gets the new snapshot's identity
 * (snapshot_id). */
int snapshot_take_id(const struct volume_conf *v, int voldirfd, char *id, size_t len);

/* As snapshot_take_id, and mounts (when not NULL) gets the mount points
 * inside the volume that were left out of it (relative names, also when
 * it fails; walk_list_free them). */
int snapshot_take_mounts(const struct volume_conf *v, int voldirfd, char *id, size_t len,
			 struct walk_list *mounts);

/* The identity of the complete snapshot present: its inode number and
 * birth time (change time where the filesystem keeps no birth time), which
 * a snapshot keeps from its start to its removal, across remounts, and
 * which another snapshot cannot have. Returns 0, or an errno value (ENOENT:
 * none). */
int snapshot_id(int voldirfd, char *id, size_t len);

/* The mount points inside the volume (relative names), .volinit aside:
 * what snapshots and restores leave alone. Returns 0 or an errno value. */
int snapshot_mounts(int voldirfd, struct walk_list *out);

bool snapshot_exists(int voldirfd);

/* The complete snapshot's directory, read-only, or -1 with errno. */
int snapshot_open(int voldirfd);

/* Makes the volume (but .volinit/) what the snapshot holds, durably.
 * Idempotent: a crash during a restore is mended by restoring again.
 * Returns 0, or an errno value with where naming what failed. */
int snapshot_restore(int voldirfd, char *where, size_t len);

/* What an error of the functions here means, for a message: ESTALE (the
 * kernel's "Stale file handle") is an entry another process renamed or
 * replaced while volinit worked on it. */
const char *snapshot_strerror(int err);

/* snapshot_restore, only when the snapshot present is the one named id
 * (snapshot_id): ESTALE, changing nothing, when it is another. */
int snapshot_restore_id(int voldirfd, const char *id, char *where, size_t len);

/* Removes snapshot/ (renamed aside, the rename on disk, then deleted) and
 * what earlier removals or a crashed snapshot left (snapshot.tmp/,
 * snapshot.del.*). */
void snapshot_remove(int voldirfd);

#endif
