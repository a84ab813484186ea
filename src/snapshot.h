/* snapshot: PATH/.volinit/snapshot/, the volume's contents from before the
 * current migration, kept with owners, modes, times, symlinks, hard
 * links and extended attributes, reflinked where the filesystem can. It is built in snapshot.tmp/
 * and renamed when complete, so snapshot/ existing means complete. */
#ifndef VOLINIT_SNAPSHOT_H
#define VOLINIT_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* Checks the free space, then copies. Returns 0, or 73 after a FATAL line. */
int snapshot_take(const struct volume_conf *v, int voldirfd);

bool snapshot_exists(int voldirfd);

/* The complete snapshot's directory, read-only, or -1 with errno. */
int snapshot_open(int voldirfd);

/* Makes the volume (but .volinit/) what the snapshot holds, durably.
 * Idempotent: a crash during a restore is mended by restoring again.
 * Returns 0, or an errno value with where naming what failed. */
int snapshot_restore(int voldirfd, char *where, size_t len);

/* Removes snapshot/ and any half-built snapshot.tmp/. */
void snapshot_remove(int voldirfd);

#endif
