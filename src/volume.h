/* volume: what a volume's directory is: there?, a mount point?, empty? */
#ifndef VOLINIT_VOLUME_H
#define VOLINIT_VOLUME_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The directory volinit keeps its own state in, ignored when deciding
 * whether a volume is empty. */
#define VOLUME_STATE_DIR ".volinit"

/* Opens path as a directory (O_PATH is not enough: it is read). Returns the
 * descriptor, or -1 with errno (ENOTDIR when it is something else). */
int volume_open(const char *path);

/* 1 when the directory holds nothing but .volinit and lost+found, 0 when it
 * holds more, -1 on error. Reads at most a few entries: the cost does not
 * grow with the volume. */
int volume_is_empty(int dirfd);

/* 1 when the directory dirfd is the root of a mount (its mount differs
 * from its parent's), 0 when not, -1 when that cannot be told (errno set).
 * Looks at nothing else in the mount table. */
int volume_is_mountpoint_at(int dirfd);

/* The same for a path (opened once). */
int volume_is_mountpoint(const char *path);

/* What an entry is, for messages: "a regular file", "a FIFO", ... */
const char *volume_kind_name(mode_t mode);

#endif
