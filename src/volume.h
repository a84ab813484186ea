/* volume: what a volume's directory is: there?, a mount point?, empty? */
#ifndef VOLINIT_VOLUME_H
#define VOLINIT_VOLUME_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The directory volinit keeps its own state in, ignored when deciding
 * whether a volume is empty. */
#define VOLUME_STATE_DIR ".volinit"

/* volinit's temporary files, written then renamed over their name (a
 * version file, .volinit/dirty, .volinit/readers): ".NAME" VOLUME_TMP_INFIX
 * "PID" or "NAME" VOLUME_TMP_INFIX "PID". One left by a crash is volinit's,
 * never the app's data (SPEC.md "Version file"). */
#define VOLUME_TMP_INFIX ".volinit-tmp."

/* Whether name is one of volinit's temporary files: VOLUME_TMP_INFIX
 * followed by digits alone. */
bool volume_is_tmp_name(const char *name);

/* Removes volinit's temporary files left by a crash in the directory dirfd
 * (names only: nothing is opened, a directory of that name stays). Reads the
 * directory: for a command that writes, under its lock. */
void volume_remove_tmp(int dirfd);

/* Makes everything written on dirfd's filesystem durable (syncfs): what a
 * hook, a restore or the app wrote, before a record that vouches for it.
 * Returns 0 or an errno value (EIO when writeback failed since the last
 * call, as syncfs reports it since Linux 5.8). */
int volume_sync(int dirfd);

/* Opens path as a directory (O_PATH is not enough: it is read). Returns the
 * descriptor, or -1 with errno (ENOTDIR when it is something else). */
int volume_open(const char *path);

/* 1 when the directory holds nothing but .volinit, lost+found and volinit's
 * temporary files, 0 when it
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
