/* snapshot: PATH/.volinit/snapshot/, the volume's contents from before the
 * current migration, kept with owners, modes, times, symlinks and hard
 * links, reflinked where the filesystem can. It is built in snapshot.tmp/
 * and renamed when complete, so snapshot/ existing means complete. */
#ifndef VOLINIT_SNAPSHOT_H
#define VOLINIT_SNAPSHOT_H

#include <stdbool.h>

#include "config.h"

/* Checks the free space, then copies. Returns 0, or 73 after a FATAL line. */
int snapshot_take(const struct volume_conf *v, int voldirfd);

bool snapshot_exists(int voldirfd);

/* Makes the volume (but .volinit/) what the snapshot holds, durably.
 * Idempotent: a crash during a restore is mended by restoring again.
 * Returns 0 or an errno value. */
int snapshot_restore(int voldirfd);

/* Removes snapshot/ and any half-built snapshot.tmp/. */
void snapshot_remove(int voldirfd);

/* Copies the tree below src into dst, an existing empty directory (for the
 * benchmark and tests). skip_state: leave out src's .volinit. */
int snapshot_copy_tree(int srcfd, int dstfd, bool skip_state);

#endif
